import WAT
import WasmAOTCodegen
import WasmAOTCore
import WasmAOTLower
import XCTest

/// The partition plan: which functions get the full profile (the baseline tier's greedy budget),
/// how they are split, and that the plan depends on the module and the policy only.
final class PartitionPlanTests: XCTestCase {
    /// A function of about `size` bytes of body: `loop` wraps the body, `recursive` calls itself.
    private func function(_ name: String, size: Int, loop: Bool = false, recursive: Bool = false) -> String {
        // (drop (i32.const 1)) is 3 bytes: i32.const 1, drop.
        let body = String(repeating: "(drop (i32.const 1))", count: max(1, size / 3))
        let inner = loop ? "(loop \(body))" : body
        let call = recursive ? "(if (i32.const 0) (then (call $\(name))))" : ""
        return "(func $\(name) \(inner) \(call))\n"
    }

    private func decode(_ functions: [String]) throws -> WasmModule {
        try WasmModule.decode(bytes: try wat2wasm("(module\n" + functions.joined() + ")"))
    }

    private func policy(budget: Int?) -> PartitionPlan.Policy {
        PartitionPlan.Policy(targetCost: 8 << 10, maximumPartitions: 64, hugeFunctionBytes: 8 << 10, reducedCostPercent: 40,
                             fullProfileBudget: budget)
    }

    /// Defined-function indices compiled with the full profile.
    private func full(_ plan: PartitionPlan) -> Set<Int> {
        Set(plan.partitions.filter { !$0.reduced }.flatMap(\.functions))
    }

    func testSmallModuleGetsTheFullProfileExceptHugeFunctions() throws {
        let wasm = try decode([function("a", size: 900), function("b", size: 3000, loop: true), function("huge", size: 9000, loop: true)])
        let plan = PartitionPlan(wasm, policy: policy(budget: 32 << 10))
        XCTAssertEqual(full(plan), [0, 1])
        XCTAssertEqual(Set(plan.partitions.filter(\.reduced).flatMap(\.functions)), [2])
        // Every function is in exactly one partition, its owner.
        for (p, partition) in plan.partitions.enumerated() {
            for j in partition.functions { XCTAssertEqual(plan.owner[j], p) }
        }
        XCTAssertEqual(plan.partitions.flatMap(\.functions).sorted(), [0, 1, 2])
    }

    func testBudgetGoesToRepeatingFunctionsSmallestFirst() throws {
        let wasm = try decode([
            function("straight", size: 1000),                     // 0: no loop: last in line
            function("bigLoop", size: 5000, loop: true),          // 1
            function("smallLoop", size: 1500, loop: true),        // 2
            function("recursive", size: 2000, recursive: true),   // 3: a self-call counts as repeating
            function("midLoop", size: 3000, loop: true),          // 4
        ])
        // 1500 + 2000 + 3000 = 6500 fit in 7 KB, 5000 does not; the loop-free one comes after all
        // repeating ones and does not fit either.
        let plan = PartitionPlan(wasm, policy: policy(budget: 7 << 10))
        XCTAssertEqual(full(plan), [2, 3, 4])
        // No budget: everything that is not huge.
        XCTAssertEqual(full(PartitionPlan(wasm, policy: policy(budget: nil))), [0, 1, 2, 3, 4])
    }

    func testPlanDependsOnTheModuleAndPolicyOnly() throws {
        var functions: [String] = []
        for k in 0..<40 { functions.append(function("f\(k)", size: 200 + 97 * k, loop: k % 3 == 0)) }
        let wasm = try decode(functions)
        let first = PartitionPlan(wasm, policy: policy(budget: 16 << 10))
        let second = PartitionPlan(wasm, policy: policy(budget: 16 << 10))
        XCTAssertEqual(first.partitions.map(\.functions), second.partitions.map(\.functions))
        XCTAssertEqual(first.partitions.map(\.reduced), second.partitions.map(\.reduced))
        XCTAssertGreaterThan(first.partitions.count, 1, "~100 KB of code splits into several partitions")
        XCTAssertTrue(first.partitions.contains(where: \.reduced) && first.partitions.contains { !$0.reduced })
    }

    func testBaselineTierProfilesPerPartition() {
        let policy = PartitionPlan.Policy(profile: .baseline)
        XCTAssertEqual(policy.hugeFunctionBytes, 8 << 10)
        XCTAssertEqual(policy.fullProfileBudget, 32 << 10)
        XCTAssertNil(PartitionPlan.Policy(profile: .level(.o2)).fullProfileBudget)
        XCTAssertEqual(CodegenProfile.baseline.forHugeFunctions, .baselineHuge)
        XCTAssertEqual(CodegenProfile.level(.o2).forHugeFunctions, .reduced)
        XCTAssertTrue(CodegenProfile.baselineHuge.isBaseline)
    }
}
