import WasmParser
import WasmTypes

/// Module-level validation rules of Wasm 2.0 (everything but function bodies, which the
/// lowering validates as it emits code). Messages follow the spec interpreter's wording.
struct ModuleValidator {
    let module: WasmModule
    let definedTables: [Table]

    /// Value types of proposals wasmaot does not compile (v128, typed and GC references) in
    /// signatures, globals and locals are named as such.
    func checkSupportedTypes() throws(CompileError) {
        for (i, type) in module.types.enumerated() {
            for t in type.parameters + type.results {
                if let feature = UnsupportedProposal.feature(of: t) { throw UnsupportedProposal.error(feature, "\(UnsupportedProposal.typeName(t)) in type \(i)") }
            }
        }
        for (i, global) in module.globals.enumerated() {
            if let feature = UnsupportedProposal.feature(of: global.valueType) { throw UnsupportedProposal.error(feature, "\(UnsupportedProposal.typeName(global.valueType)) global \(i)") }
        }
        for (i, code) in module.codes.enumerated() {
            for t in code.locals {
                if let feature = UnsupportedProposal.feature(of: t) {
                    let f = UInt32(module.importedFunctionCount + i)
                    throw UnsupportedProposal.error(feature, "\(UnsupportedProposal.typeName(t)) local", function: f, functionName: module.functionNames[f])
                }
            }
        }
    }

    /// A concrete reference names a type of the type section (in the type section itself: an
    /// earlier type or the type being defined, as each type is its own recursion group).
    func checkValueType(_ t: ValueType, typeLimit: Int? = nil) throws(CompileError) {
        if case .ref(let r) = t, case .concrete(let i) = r.heapType, Int(i) >= (typeLimit ?? module.types.count) {
            throw CompileError("unknown type \(i)")
        }
    }

    func validate() throws(CompileError) {
        for (i, typeIndex) in module.functionTypeIndices.enumerated() where Int(typeIndex) >= module.types.count {
            throw CompileError("unknown type \(typeIndex)", function: UInt32(i))
        }
        for (i, type) in module.types.enumerated() {
            for t in type.parameters + type.results { try checkValueType(t, typeLimit: i + 1) }
        }
        for global in module.globals { try checkValueType(global.valueType) }
        for table in module.tables { try checkValueType(.ref(table.elementType)) }
        for type in module.elementTypes { try checkValueType(.ref(type)) }
        for code in module.codes { for t in code.locals { try checkValueType(t) } }
        try checkSupportedTypes()
        for typeIndex in module.tags {
            guard Int(typeIndex) < module.types.count else { throw CompileError("unknown type \(typeIndex)") }
            if !module.types[Int(typeIndex)].results.isEmpty { throw CompileError("non-empty tag result type") }
        }
        for table in module.tables {
            try checkLimits(table.limits, bound: table.limits.isMemory64 ? UInt64.max : UInt64(UInt32.max), what: "table")
            if let feature = UnsupportedProposal.feature(of: table.elementType) { throw UnsupportedProposal.error(feature, "table of \(UnsupportedProposal.typeName(.ref(table.elementType)))") }
        }
        if module.standard == .wasm2 && module.memories.count > 1 { throw CompileError("multiple memories") }
        for memory in module.memories {
            if memory.shared { throw UnsupportedProposal.error(.threads, "a shared memory") }
            if memory.isMemory64 {
                let bound: UInt64 = 1 << 48
                if memory.min > bound || (memory.max ?? 0) > bound { throw CompileError("memory size must be at most 2^48 pages") }
            } else {
                if memory.min > 65536 { throw CompileError("memory size must be at most 65536 pages (4GiB)") }
                if let max = memory.max, max > 65536 { throw CompileError("memory size must be at most 65536 pages (4GiB)") }
            }
            if let max = memory.max, memory.min > max { throw CompileError("size minimum must not be greater than maximum") }
        }
        for (i, table) in definedTables.enumerated() {
            let type = ValueType.ref(table.type.elementType)
            if let initializer = table.initializer {
                // Tables come before globals: their initializers see the imported globals only.
                try checkConstant(initializer, type: type, visibleGlobals: module.importedGlobalCount)
            } else if !WasmModule.isDefaultable(type) {
                // A table of non-nullable references needs an initializer for its elements.
                throw CompileError("type mismatch: table \(module.importedTableCount + i) of \(UnsupportedProposal.typeName(type)) needs an initializer")
            }
        }
        for (i, initializer) in module.globalInitializers.enumerated() {
            let type = module.globals[module.importedGlobalCount + i].valueType
            // A global's initializer sees the globals before it (imported and defined).
            try checkConstant(initializer, type: type, visibleGlobals: module.importedGlobalCount + i)
        }
        // Names are byte strings: Swift's String equality would merge canonically equivalent
        // Unicode spellings ("Å" vs "A\u{30A}") that Wasm keeps apart.
        var names = Set<[UInt8]>()
        for export in module.exports {
            guard names.insert(Array(export.name.utf8)).inserted else { throw CompileError("duplicate export name") }
            switch export.descriptor {
            case .function(let i): try checkIndex(i, module.functionTypeIndices.count, "function")
            case .table(let i): try checkIndex(i, module.tables.count, "table")
            case .memory(let i): try checkIndex(i, module.memories.count, "memory")
            case .global(let i): try checkIndex(i, module.globals.count, "global")
            case .tag(let i): try checkIndex(i, module.tags.count, "tag")
            }
        }
        if let start = module.start {
            try checkIndex(start, module.functionTypeIndices.count, "function")
            let type = module.functionType(ofFunction: start)
            if !type.parameters.isEmpty || !type.results.isEmpty { throw CompileError("start function") }
        }
        for (k, segment) in module.elements.enumerated() {
            let refType = ValueType.ref(module.elementTypes[k])
            for expression in segment.initializer { try checkConstant(expression, type: refType) }
            if case .active(let table, let offset) = segment.mode {
                try checkIndex(table, module.tables.count, "table")
                try checkConstant(offset, type: module.tables[Int(table)].limits.isMemory64 ? .i64 : .i32)
                if !module.isSubtype(refType, of: .ref(module.tables[Int(table)].elementType)) { throw CompileError("type mismatch") }
            }
        }
        for segment in module.data {
            if case .active(let active) = segment {
                try checkIndex(active.index, module.memories.count, "memory")
                try checkConstant(active.offset, type: module.memories[Int(active.index)].isMemory64 ? .i64 : .i32)
            }
        }
    }

    private func checkIndex(_ index: UInt32, _ count: Int, _ what: String) throws(CompileError) {
        if Int(index) >= count { throw CompileError("unknown \(what) \(index)") }
    }

    private func checkLimits(_ limits: Limits, bound: UInt64, what: String) throws(CompileError) {
        if let max = limits.max, limits.min > max {
            throw CompileError("size minimum must not be greater than maximum")
        }
        if limits.min > bound || (limits.max ?? 0) > bound {
            throw CompileError("\(what) size must be at most \(bound)")
        }
    }

    /// Constant expressions of Wasm 3.0 without GC: constants, `ref.null`, `ref.func`,
    /// `global.get` of an immutable global among the first `visibleGlobals` (a global's own
    /// initializer sees only the globals before it), and the extended-constant arithmetic
    /// `i32/i64.add/sub/mul`. Under Wasm 2.0 rules: no arithmetic, imported globals only.
    func checkConstant(_ expression: ConstExpression, type: ValueType, visibleGlobals: Int? = nil) throws(CompileError) {
        var stack: [ValueType] = []
        let extended = module.standard != .wasm2
        func binary(_ t: ValueType) throws(CompileError) {
            guard stack.count >= 2, stack[stack.count - 1] == t, stack[stack.count - 2] == t else {
                throw CompileError("type mismatch")
            }
            stack.removeLast()
        }
        for instruction in expression {
            switch instruction {
            case .i32Const: stack.append(.i32)
            case .i64Const: stack.append(.i64)
            case .f32Const: stack.append(.f32)
            case .f64Const: stack.append(.f64)
            case .v128Const: stack.append(.v128)
            case .binary(.i32Add), .binary(.i32Sub), .binary(.i32Mul):
                guard extended else { throw CompileError("constant expression required") }
                try binary(.i32)
            case .binary(.i64Add), .binary(.i64Sub), .binary(.i64Mul):
                guard extended else { throw CompileError("constant expression required") }
                try binary(.i64)
            case .refNull(let heap):
                let type = ValueType.ref(ReferenceType(isNullable: true, heapType: heap))
                try checkValueType(type)
                if let feature = UnsupportedProposal.feature(of: type) {
                    throw UnsupportedProposal.error(feature, "ref.null \(UnsupportedProposal.typeName(type))")
                }
                stack.append(type)
            case .refFunc(let index):
                try checkIndex(index, module.functionTypeIndices.count, "function")
                stack.append(.ref(ReferenceType(isNullable: false, heapType: .concrete(typeIndex: module.functionTypeIndices[Int(index)]))))
            case .globalGet(let index):
                // Wasm 2.0: imported globals only.
                try checkIndex(index, extended ? visibleGlobals ?? module.globals.count : module.importedGlobalCount, "global")
                let global = module.globals[Int(index)]
                if global.mutability == .variable { throw CompileError("constant expression required") }
                stack.append(global.valueType)
            case .end: break
            default: throw CompileError("constant expression required")
            }
        }
        guard stack.count == 1, module.isSubtype(stack[0], of: type) else { throw CompileError("type mismatch") }
    }

    static func collectDeclaredReferences(_ module: WasmModule) -> Set<UInt32> {
        var refs = Set<UInt32>()
        func scan(_ expression: ConstExpression) {
            for case .refFunc(let index) in expression { refs.insert(index) }
        }
        module.globalInitializers.forEach(scan)
        module.tableInitializers.compactMap { $0 }.forEach(scan)
        for segment in module.elements { segment.initializer.forEach(scan) }
        for export in module.exports {
            if case .function(let index) = export.descriptor { refs.insert(index) }
        }
        return refs
    }
}
