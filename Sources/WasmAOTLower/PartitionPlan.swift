import WasmAOTCore
import WasmParser

/// How a module's functions are split into partitions that are lowered, optimized and compiled
/// independently (each in its own LLVM context, on whichever core is free) and linked together.
///
/// The plan depends on the module and the policy only — never on this machine's core count — so
/// an artifact is the same wherever it is built. Partitions are runs of consecutive function
/// indices (functions of one source file tend to be neighbours, so calls that could be inlined
/// or specialised mostly stay inside a partition), cut where the estimated cost reaches the
/// policy's target. Functions above the policy's size limit are taken out into partitions of
/// their own that use the cheaper `reduced` pipeline: LLVM's optimizing passes and instruction
/// selection are superlinear in a function's size, and one interpreter loop or unrolled hash
/// must not become the whole critical path.
public struct PartitionPlan: Sendable {
    public struct Partition: Sendable {
        /// Defined-function indices (0 = first non-imported function), ascending.
        public var functions: [Int]
        /// Estimated compile cost (bytes of Wasm body, weighted by the policy).
        public var cost: Int
        /// Huge functions only: compile with the reduced pipeline.
        public var reduced: Bool
    }

    /// Partition 0 also holds the module-level code (instantiation, descriptor, data segments).
    public var partitions: [Partition]
    /// Owning partition of each defined function.
    public var owner: [Int]
    /// Direct callees up to this body size owned by another partition are copied into the
    /// caller's partition as `available_externally` definitions (inlining across partitions).
    public var importBytes: Int?
    /// The policy's target cost per partition.
    public var targetCost: Int

    public struct Policy: Sendable {
        /// Aim for partitions of about this estimated cost…
        public var targetCost: Int
        /// …but at most this many (each costs a context, a target machine and an object).
        public var maximumPartitions: Int
        /// Functions with a larger body (bytes of Wasm) go to `reduced` partitions; nil: none.
        public var hugeFunctionBytes: Int?
        /// Cost of a huge function's byte relative to an ordinary one's, in percent.
        public var reducedCostPercent: Int
        /// See PartitionPlan.importBytes (nil: no copies, for pipelines that do not inline).
        public var importBytes: Int?
        /// At most this many bytes of (non-huge) function bodies get the full profile; the rest
        /// are compiled like huge ones. Functions with a loop or a call to themselves come first,
        /// smallest first (what a better register allocation pays off on, cheapest first). nil:
        /// no limit. The baseline tier's budget for its greedy register allocator.
        public var fullProfileBudget: Int?

        public init(targetCost: Int, maximumPartitions: Int, hugeFunctionBytes: Int?, reducedCostPercent: Int = 100, importBytes: Int? = nil,
                    fullProfileBudget: Int? = nil) {
            self.targetCost = targetCost
            self.maximumPartitions = maximumPartitions
            self.hugeFunctionBytes = hugeFunctionBytes
            self.reducedCostPercent = reducedCostPercent
            self.importBytes = importBytes
            self.fullProfileBudget = fullProfileBudget
        }

        /// Everything in one partition (embedding, `--emit llvm-ir`).
        public static let single = Policy(targetCost: .max, maximumPartitions: 1, hugeFunctionBytes: nil)
    }

    /// A fixed cost per function (prologue, stack check, declarations) on top of its body bytes.
    static let perFunctionCost = 64

    public init(_ wasm: WasmModule, policy: Policy) {
        let count = wasm.definedFunctionCount
        var ordinary: [(index: Int, cost: Int)] = []
        var huge: [(index: Int, cost: Int)] = []
        var full = [Bool](repeating: true, count: count)
        if let limit = policy.hugeFunctionBytes {
            for j in 0..<count where wasm.codes[j].expression.count > limit { full[j] = false }
        }
        if let budget = policy.fullProfileBudget {
            let eligible = (0..<count).filter { full[$0] }
            if eligible.reduce(0, { $0 + wasm.codes[$1].expression.count }) > budget {
                let hot = Self.repeats(wasm, eligible)
                var left = budget
                for j in eligible.sorted(by: { (hot[$0] == true ? 0 : 1, wasm.codes[$0].expression.count, $0) < (hot[$1] == true ? 0 : 1, wasm.codes[$1].expression.count, $1) }) {
                    let bytes = wasm.codes[j].expression.count
                    if bytes <= left { left -= bytes } else { full[j] = false }
                }
            }
        }
        for j in 0..<count {
            let bytes = wasm.codes[j].expression.count
            if !full[j] {
                huge.append((j, (Self.perFunctionCost + bytes) * policy.reducedCostPercent / 100))
            } else {
                ordinary.append((j, Self.perFunctionCost + bytes))
            }
        }
        let total = (ordinary + huge).reduce(0) { $0 + $1.cost }
        let wanted = policy.targetCost == .max ? 1 : (total + policy.targetCost - 1) / max(1, policy.targetCost)
        let budget = max(1, min(policy.maximumPartitions, wanted))
        // Huge functions get partitions of their own first (each is one unit of work anyway),
        // as many as their share of the budget; the ordinary ones split the rest into runs.
        var hugeParts = huge.isEmpty ? 0 : max(1, min(huge.count, budget * huge.reduce(0) { $0 + $1.cost } / max(1, total)))
        if policy.maximumPartitions <= 1 { hugeParts = 0 }
        let ordinaryParts = ordinary.isEmpty && hugeParts > 0 ? 0 : max(1, budget - hugeParts)

        var partitions: [Partition] = []
        // Runs of consecutive indices with about equal cost.
        let ordinaryItems = hugeParts == 0 ? (ordinary + huge).sorted { $0.index < $1.index } : ordinary
        if ordinaryParts > 0 {
            var remaining = ordinaryItems.reduce(0) { $0 + $1.cost }
            var current = Partition(functions: [], cost: 0, reduced: false)
            for item in ordinaryItems {
                // Close the run once it holds its share of what is left to split.
                let partsLeft = ordinaryParts - partitions.count
                let share = (current.cost + remaining) / partsLeft
                if !current.functions.isEmpty, partsLeft > 1, current.cost + item.cost / 2 > share {
                    partitions.append(current)
                    current = Partition(functions: [], cost: 0, reduced: false)
                }
                current.functions.append(item.index)
                current.cost += item.cost
                remaining -= item.cost
            }
            partitions.append(current)
        }
        if hugeParts > 0 {
            // Largest first onto the least loaded reduced partition.
            var reduced = (0..<hugeParts).map { _ in Partition(functions: [], cost: 0, reduced: true) }
            for item in huge.sorted(by: { ($0.cost, $1.index) > ($1.cost, $0.index) }) {
                let p = reduced.indices.min { (reduced[$0].cost, $0) < (reduced[$1].cost, $1) }!
                reduced[p].functions.append(item.index)
                reduced[p].cost += item.cost
            }
            for i in reduced.indices { reduced[i].functions.sort() }
            partitions += reduced
        }
        if partitions.isEmpty { partitions = [Partition(functions: [], cost: 0, reduced: false)] }
        // The module-level code (one store per function and element) rides with partition 0.
        partitions[0].cost += Self.perFunctionCost * count / 8

        var owner = [Int](repeating: 0, count: count)
        for (p, partition) in partitions.enumerated() {
            for j in partition.functions { owner[j] = p }
        }
        self.partitions = partitions
        self.owner = owner
        importBytes = policy.importBytes
        targetCost = policy.targetCost
    }

    /// For each of `functions`: whether its body has a `loop` or calls itself (a body that does
    /// not parse counts as neither; the lowering reports the error).
    static func repeats(_ wasm: WasmModule, _ functions: [Int]) -> [Int: Bool] {
        var result: [Int: Bool] = [:]
        for j in functions {
            var scan = RepeatScan(own: UInt32(wasm.importedFunctionCount + j))
            var parser = ExpressionParser(code: wasm.codes[j])
            do {
                while !scan.found, let visit = try parser.parse() { try visit(visitor: &scan) }
            } catch {}
            result[j] = scan.found
        }
        return result
    }
}

/// Looks for a `loop` or a call of the function to itself.
private struct RepeatScan: AnyInstructionVisitor {
    typealias VisitorError = CompileError
    let own: UInt32
    var found = false
    var binaryOffset: Int = 0

    init(own: UInt32) { self.own = own }

    mutating func visit(_ instruction: Instruction) throws(VisitorError) {}
    mutating func visitLoop(blockType: BlockType) throws(VisitorError) { found = true }
    mutating func visitCall(functionIndex: UInt32) throws(VisitorError) { if functionIndex == own { found = true } }
}
