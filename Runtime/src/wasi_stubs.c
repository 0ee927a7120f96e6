/*
 * wasi_stubs.c — preview1 functions not implemented yet: they exist (so modules importing them
 * link and instantiate) and answer ENOSYS.
 */
#include "internal.h"

int32_t wasmaot_wasi_fd_fdstat_set_rights(wasmaot_vmctx *vm, int32_t a0, int64_t a1, int64_t a2) {
    (void)vm; (void)a0; (void)a1; (void)a2; return WASI_ENOSYS;
}
int32_t wasmaot_wasi_fd_filestat_set_times(wasmaot_vmctx *vm, int32_t a0, int64_t a1, int64_t a2, int32_t a3) {
    (void)vm; (void)a0; (void)a1; (void)a2; (void)a3; return WASI_ENOSYS;
}
int32_t wasmaot_wasi_fd_readdir(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int64_t a3, int32_t a4) {
    (void)vm; (void)a0; (void)a1; (void)a2; (void)a3; (void)a4; return WASI_ENOSYS;
}
int32_t wasmaot_wasi_path_create_directory(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2) {
    (void)vm; (void)a0; (void)a1; (void)a2; return WASI_ENOSYS;
}
int32_t wasmaot_wasi_path_filestat_set_times(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3,
                                             int64_t a4, int64_t a5, int32_t a6) {
    (void)vm; (void)a0; (void)a1; (void)a2; (void)a3; (void)a4; (void)a5; (void)a6; return WASI_ENOSYS;
}
int32_t wasmaot_wasi_path_link(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4,
                               int32_t a5, int32_t a6) {
    (void)vm; (void)a0; (void)a1; (void)a2; (void)a3; (void)a4; (void)a5; (void)a6; return WASI_ENOSYS;
}
int32_t wasmaot_wasi_path_readlink(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4,
                                   int32_t a5) {
    (void)vm; (void)a0; (void)a1; (void)a2; (void)a3; (void)a4; (void)a5; return WASI_ENOSYS;
}
int32_t wasmaot_wasi_path_remove_directory(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2) {
    (void)vm; (void)a0; (void)a1; (void)a2; return WASI_ENOSYS;
}
int32_t wasmaot_wasi_path_rename(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4,
                                 int32_t a5) {
    (void)vm; (void)a0; (void)a1; (void)a2; (void)a3; (void)a4; (void)a5; return WASI_ENOSYS;
}
int32_t wasmaot_wasi_path_symlink(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4) {
    (void)vm; (void)a0; (void)a1; (void)a2; (void)a3; (void)a4; return WASI_ENOSYS;
}
int32_t wasmaot_wasi_path_unlink_file(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2) {
    (void)vm; (void)a0; (void)a1; (void)a2; return WASI_ENOSYS;
}
int32_t wasmaot_wasi_poll_oneoff(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3) {
    (void)vm; (void)a0; (void)a1; (void)a2; (void)a3; return WASI_ENOSYS;
}
int32_t wasmaot_wasi_proc_raise(wasmaot_vmctx *vm, int32_t a0) {
    (void)vm; (void)a0; return WASI_ENOSYS;
}
int32_t wasmaot_wasi_sock_accept(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2) {
    (void)vm; (void)a0; (void)a1; (void)a2; return WASI_ENOSYS;
}
int32_t wasmaot_wasi_sock_recv(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4,
                               int32_t a5) {
    (void)vm; (void)a0; (void)a1; (void)a2; (void)a3; (void)a4; (void)a5; return WASI_ENOSYS;
}
int32_t wasmaot_wasi_sock_send(wasmaot_vmctx *vm, int32_t a0, int32_t a1, int32_t a2, int32_t a3, int32_t a4) {
    (void)vm; (void)a0; (void)a1; (void)a2; (void)a3; (void)a4; return WASI_ENOSYS;
}
int32_t wasmaot_wasi_sock_shutdown(wasmaot_vmctx *vm, int32_t a0, int32_t a1) {
    (void)vm; (void)a0; (void)a1; return WASI_ENOSYS;
}
