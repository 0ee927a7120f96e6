import CWasmAOTRuntime
import Foundation

/// The embedding entry points of libwasmaot_rt.so, loaded with RTLD_GLOBAL so that every module
/// shared object binds its runtime calls to this one copy (one trap handler, one registry).
struct RuntimeSymbols: @unchecked Sendable {
    typealias InstanceNew = @convention(c) (UnsafePointer<wasmaot_module_desc>?, UnsafeMutablePointer<UnsafePointer<CChar>?>?) -> UnsafeMutablePointer<wasmaot_vmctx>?
    typealias Invoke = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutablePointer<wasmaot_vmctx>?, UnsafePointer<CChar>?, UnsafePointer<UInt64>?, UnsafeMutablePointer<UInt64>?) -> Int32
    typealias Init = @convention(c) (UnsafeMutablePointer<wasmaot_vmctx>?) -> Int32
    typealias HostFunction = @convention(c) (UnsafePointer<CChar>?, wasmaot_host_callback?, UnsafeMutableRawPointer?) -> UnsafeMutableRawPointer?
    typealias Void0 = @convention(c) () -> Void
    typealias StackLimit = @convention(c) () -> UInt
    typealias InternType = @convention(c) (UnsafePointer<CChar>?) -> UnsafePointer<CChar>?

    let instanceNew: InstanceNew
    let invoke: Invoke
    let initialize: Init
    let hostFunction: HostFunction
    let prepareThread: Void0
    let stackLimit: StackLimit
    let internType: InternType

    private static let cache = NSLock()
    nonisolated(unsafe) private static var loaded: [String: RuntimeSymbols] = [:]

    static func load(_ path: String) throws(EmbedError) -> RuntimeSymbols {
        cache.lock()
        defer { cache.unlock() }
        if let existing = loaded[path] { return existing }
        guard let handle = dlopen(path, RTLD_NOW | RTLD_GLOBAL) else {
            throw EmbedError("cannot load the shared runtime \(path): \(String(cString: dlerror()))")
        }
        func symbol<T>(_ name: String, _: T.Type) throws(EmbedError) -> T {
            guard let address = dlsym(handle, name) else { throw EmbedError("\(path) lacks \(name)") }
            return unsafeBitCast(address, to: T.self)
        }
        let symbols = RuntimeSymbols(
            instanceNew: try symbol("wasmaot_instance_new", InstanceNew.self),
            invoke: try symbol("wasmaot_embed_invoke", Invoke.self),
            initialize: try symbol("wasmaot_embed_init", Init.self),
            hostFunction: try symbol("wasmaot_embed_host_function", HostFunction.self),
            prepareThread: try symbol("wasmaot_embed_prepare_thread", Void0.self),
            stackLimit: try symbol("wasmaot_embed_stack_limit", StackLimit.self),
            internType: try symbol("wasmaot_intern_type", InternType.self))
        loaded[path] = symbols
        return symbols
    }
}
