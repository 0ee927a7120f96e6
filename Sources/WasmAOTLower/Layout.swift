import CWasmAOTRuntime
import WasmAOTCore
import WasmParser
import WasmTypes

/// Where each piece of per-instance state lives in the vmctx (see Runtime/include/wasmaot_rt.h:
/// a fixed 32-byte head, then this module-specific tail). Offsets are baked into the generated
/// code and published to the runtime through the module descriptor.
///
/// The runtime's structs are read from the C header itself (imported as CWasmAOTRuntime), so an
/// offset cannot drift from what the runtime was compiled with; both targets are LP64 with the
/// same layout (Runtime/src/instance.c pins it).
struct VMContextLayout {
    static let memBase = MemoryLayout<wasmaot_vmctx>.offset(of: \wasmaot_vmctx.mem_base)!
    static let memory = MemoryLayout<wasmaot_vmctx>.offset(of: \wasmaot_vmctx.memory)!
    static let stackLimit = MemoryLayout<wasmaot_vmctx>.offset(of: \wasmaot_vmctx.stack_limit)!
    static let headSize = MemoryLayout<wasmaot_vmctx>.size
    /// Offsets inside the runtime's structs.
    static let memorySize = MemoryLayout<wasmaot_memory>.offset(of: \wasmaot_memory.size)!
    static let memoryBase = MemoryLayout<wasmaot_memory>.offset(of: \wasmaot_memory.base)!
    static let funcrefType = MemoryLayout<wasmaot_funcref>.offset(of: \wasmaot_funcref.type)!
    static let funcrefCode = MemoryLayout<wasmaot_funcref>.offset(of: \wasmaot_funcref.code)!
    static let funcrefVMContext = MemoryLayout<wasmaot_funcref>.offset(of: \wasmaot_funcref.vmctx)!
    static let funcrefTailCode = MemoryLayout<wasmaot_funcref>.offset(of: \wasmaot_funcref.tail_code)!
    static let funcrefSize = MemoryLayout<wasmaot_funcref>.stride
    static let tableElems = MemoryLayout<wasmaot_table>.offset(of: \wasmaot_table.elems)!
    static let tableSize = MemoryLayout<wasmaot_table>.offset(of: \wasmaot_table.size)!
    static let exceptionTag = MemoryLayout<wasmaot_exception>.offset(of: \wasmaot_exception.tag)!
    static let exceptionFlags = MemoryLayout<wasmaot_exception>.offset(of: \wasmaot_exception.flags)!
    /// Payload value i of an exception is at exceptionValues + 8*i (wasmaot_rt.h).
    static let exceptionValues = MemoryLayout<wasmaot_exception>.size

    let importedFuncs: Int
    let tables: Int
    let memories: Int            // wasmaot_memory* per memory index
    let importedGlobals: Int
    let definedGlobals: Int
    let funcrefs: Int
    let typeIDs: Int             // interned type identity per type index (wasmaot_intern_type)
    let dataLengths: Int
    let tags: Int                // tag identity per tag index
    let elementSegments: [Int]   // offset of each segment: u32 length, then 8-byte items
    let size: Int

    init(_ module: WasmModule) {
        var cursor = Self.headSize
        func take(_ bytes: Int, align: Int = 8) -> Int {
            cursor = (cursor + align - 1) / align * align
            defer { cursor += bytes }
            return cursor
        }
        importedFuncs = take(8 * module.importedFunctionCount)
        tables = take(8 * module.tables.count)
        memories = take(8 * module.memories.count)
        importedGlobals = take(8 * module.importedGlobalCount)
        definedGlobals = take(16 * (module.globals.count - module.importedGlobalCount), align: 16)
        funcrefs = take(Self.funcrefSize * module.definedFunctionCount)
        typeIDs = take(8 * module.types.count)
        dataLengths = take(4 * module.data.count)
        tags = take(8 * module.tags.count)
        elementSegments = module.elements.map { take(8 + 8 * $0.initializer.count) }
        size = (cursor + 15) / 16 * 16
    }

    func importedFunction(_ index: Int) -> Int { importedFuncs + 8 * index }
    func table(_ index: Int) -> Int { tables + 8 * index }
    func memory(_ index: Int) -> Int { memories + 8 * index }
    func importedGlobal(_ index: Int) -> Int { importedGlobals + 8 * index }
    func definedGlobal(_ index: Int) -> Int { definedGlobals + 16 * index }
    func funcref(_ definedIndex: Int) -> Int { funcrefs + Self.funcrefSize * definedIndex }
    func dataLength(_ index: Int) -> Int { dataLengths + 4 * index }
    func typeID(_ index: Int) -> Int { typeIDs + 8 * index }
    func tag(_ index: Int) -> Int { tags + 8 * index }
}

