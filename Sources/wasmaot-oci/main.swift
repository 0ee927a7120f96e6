// OCI runtime wrapper: runs Wasm containers as AOT-compiled native executables and hands every
// other container, unchanged, to the delegate runtime (crun/runc). All logic is in WasmAOTOCI.
import WasmAOTOCI

#if canImport(Glibc)
import Glibc
#endif

exit(Wrapper(argv: CommandLine.arguments, environment: System.environment).main())
