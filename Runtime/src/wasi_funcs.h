/* wasi_funcs.h — prototypes of every host function (generated once from the preview1 signature
 * list in the runtime brief; keep in sync with host_funcs.c). Parameter names are placeholders. */
#ifndef WASMAOT_WASI_FUNCS_H
#define WASMAOT_WASI_FUNCS_H
#include "wasmaot_rt.h"

int32_t wasmaot_wasi_args_get(wasmaot_vmctx *vm, int32_t a0, int32_t a1);
int32_t wasmaot_wasi_args_sizes_get(wasmaot_vmctx *vm, int32_t a0, int32_t a1);
int32_t wasmaot_wasi_environ_get(wasmaot_vmctx *vm, int32_t a0, int32_t a1);
int32_t wasmaot_wasi_environ_sizes_get(wasmaot_vmctx *vm, int32_t a0, int32_t a1);
int32_t wasmaot_wasi_clock_res_get(wasmaot_vmctx *vm, int32_t a0, int32_t a1);
int32_t wasmaot_wasi_clock_time_get(wasmaot_vmctx *vm, int32_t a0, int64_t a1, int32_t a2);
int32_t wasmaot_wasi_fd_advise(wasmaot_vmctx *vm, int32_t a0, int64_t a1, int64_t a2, int32_t a3);
int32_t wasmaot_wasi_fd_allocate(wasmaot_vmctx *vm, int32_t a0, int64_t a1, int64_t a2);
int32_t wasmaot_wasi_fd_close(wasmaot_vmctx *vm, int32_t a0);
int32_t wasmaot_wasi_fd_datasync(wasmaot_vmctx *vm, int32_t a0);
int32_t wasmaot_wasi_fd_fdstat_get(wasmaot_vmctx *vm, int32_t a0, int32_t a1);
int32_t wasmaot_wasi_fd_fdstat_set_flags(wasmaot_vmctx *vm, int32_t a0, int32_t a1);
int32_t wasmaot_wasi_fd_fdstat_set_rights(wasmaot_vmctx *vm, int32_t a0, int64_t a1, int64_t a2);
int32_t wasmaot_wasi_fd_filestat_get(wasmaot_vmctx *vm, int32_t a0, int32_t a1);
int32_t wasmaot_wasi_fd_filestat_set_size(wasmaot_vmctx *vm, int32_t a0, int64_t a1);
int32_t wasmaot_wasi_fd_filestat_set_times(wasmaot_vmctx *vm, int32_t a0, int64_t a1, int64_t a2, int32_t a3);
int32_t wasmaot_wasi_fd_pread(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int64_t a3, int32_t a4);
int32_t wasmaot_wasi_fd_prestat_get(wasmaot_vmctx *vm, int32_t a0, int32_t a1);
int32_t wasmaot_wasi_fd_prestat_dir_name(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2);
int32_t wasmaot_wasi_fd_pwrite(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int64_t a3, int32_t a4);
int32_t wasmaot_wasi_fd_read(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3);
int32_t wasmaot_wasi_fd_readdir(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int64_t a3, int32_t a4);
int32_t wasmaot_wasi_fd_renumber(wasmaot_vmctx *vm, int32_t a0, int32_t a1);
int32_t wasmaot_wasi_fd_seek(wasmaot_vmctx *vm, int32_t a0, int64_t a1, int32_t a2, int32_t a3);
int32_t wasmaot_wasi_fd_sync(wasmaot_vmctx *vm, int32_t a0);
int32_t wasmaot_wasi_fd_tell(wasmaot_vmctx *vm, int32_t a0, int32_t a1);
int32_t wasmaot_wasi_fd_write(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3);
int32_t wasmaot_wasi_path_create_directory(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2);
int32_t wasmaot_wasi_path_filestat_get(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4);
int32_t wasmaot_wasi_path_filestat_set_times(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int64_t a4, int64_t a5, int32_t a6);
int32_t wasmaot_wasi_path_link(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4, int32_t a5, int32_t a6);
int32_t wasmaot_wasi_path_open(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4, int64_t a5, int64_t a6, int32_t a7, int32_t a8);
int32_t wasmaot_wasi_path_readlink(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4, int32_t a5);
int32_t wasmaot_wasi_path_remove_directory(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2);
int32_t wasmaot_wasi_path_rename(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4, int32_t a5);
int32_t wasmaot_wasi_path_symlink(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4);
int32_t wasmaot_wasi_path_unlink_file(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2);
int32_t wasmaot_wasi_poll_oneoff(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3);
_Noreturn void wasmaot_wasi_proc_exit(wasmaot_vmctx *vm, int32_t a0);
int32_t wasmaot_wasi_proc_raise(wasmaot_vmctx *vm, int32_t a0);
int32_t wasmaot_wasi_sched_yield(wasmaot_vmctx *vm);
int32_t wasmaot_wasi_random_get(wasmaot_vmctx *vm, int32_t a0, int32_t a1);
int32_t wasmaot_wasi_sock_accept(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2);
int32_t wasmaot_wasi_sock_recv(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4, int32_t a5);
int32_t wasmaot_wasi_sock_send(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4);
int32_t wasmaot_wasi_sock_shutdown(wasmaot_vmctx *vm, int32_t a0, int32_t a1);

void wasmaot_bench_start(wasmaot_vmctx *vm);
void wasmaot_bench_end(wasmaot_vmctx *vm);
#endif
