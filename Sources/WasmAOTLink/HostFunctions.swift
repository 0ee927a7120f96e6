/// Imports the runtime provides to executables, with their canonical type text (must match
/// `wasmaot_host_funcs` in Runtime/src; a test links a module importing every one of them).
public enum HostFunctions {
    public static let wasiModule = "wasi_snapshot_preview1"

    public static let types: [String: [String: String]] = [
        wasiModule: [
            "args_get": "ii:i", "args_sizes_get": "ii:i", "environ_get": "ii:i", "environ_sizes_get": "ii:i",
            "clock_res_get": "ii:i", "clock_time_get": "iIi:i", "fd_advise": "iIIi:i", "fd_allocate": "iII:i",
            "fd_close": "i:i", "fd_datasync": "i:i", "fd_fdstat_get": "ii:i", "fd_fdstat_set_flags": "ii:i",
            "fd_fdstat_set_rights": "iII:i", "fd_filestat_get": "ii:i", "fd_filestat_set_size": "iI:i",
            "fd_filestat_set_times": "iIIi:i", "fd_pread": "iiiIi:i", "fd_prestat_get": "ii:i",
            "fd_prestat_dir_name": "iii:i", "fd_pwrite": "iiiIi:i", "fd_read": "iiii:i", "fd_readdir": "iiiIi:i",
            "fd_renumber": "ii:i", "fd_seek": "iIii:i", "fd_sync": "i:i", "fd_tell": "ii:i", "fd_write": "iiii:i",
            "path_create_directory": "iii:i", "path_filestat_get": "iiiii:i", "path_filestat_set_times": "iiiiIIi:i",
            "path_link": "iiiiiii:i", "path_open": "iiiiiIIii:i", "path_readlink": "iiiiii:i",
            "path_remove_directory": "iii:i", "path_rename": "iiiiii:i", "path_symlink": "iiiii:i",
            "path_unlink_file": "iii:i", "poll_oneoff": "iiii:i", "proc_exit": "i:", "proc_raise": "i:i",
            "sched_yield": ":i", "random_get": "ii:i", "sock_accept": "iii:i", "sock_recv": "iiiiii:i",
            "sock_send": "iiiii:i", "sock_shutdown": "ii:i",
        ],
        "bench": ["start": ":", "end": ":"],
    ]

    /// One line per import an executable cannot satisfy (unknown, or wrong type).
    /// `imports`: (module, name, kind, type text) with kind "func"/"table"/"memory"/"global".
    public static func unresolved(_ imports: [(module: String, name: String, kind: String, type: String)]) -> [String] {
        imports.compactMap { imp in
            guard imp.kind == "func" else {
                return "\(imp.module).\(imp.name): \(imp.kind) imports cannot be satisfied by an executable"
            }
            guard let expected = types[imp.module]?[imp.name] else {
                return "\(imp.module).\(imp.name): unknown import (type \(imp.type))"
            }
            return expected == imp.type ? nil : "\(imp.module).\(imp.name): type \(imp.type) does not match the host function's \(expected)"
        }
    }
}
