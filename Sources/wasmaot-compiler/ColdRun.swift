import Foundation
import WasmAOTCache
import WasmAOTCodegen

/// `wasmaot-compiler __run …`: a `wasmaot run` the launcher has already parsed and found no
/// cached artifact for (see cold_run in Sources/wasmaot/main.c for the argument order). Skipping
/// swift-argument-parser here saves its reflection-heavy set-up on every cold start; the launcher
/// only takes this route for command lines it fully understood and validated, everything else
/// reaches `Run` with the user's own argv.
enum ColdRun {
    static func main(_ arguments: [String]) -> Never {
        // [argv0, "__run", cacheDir, opt, tier, jobs, verbose, wasi, module, args...]
        guard arguments.count >= 9, let level = Int(arguments[3]), let opt = OptLevel(rawValue: level),
              let tier = TierChoice(rawValue: arguments[4]) else {
            fail("internal error: malformed __run arguments (the launcher and the compiler are from different builds?)")
        }
        let jobs = arguments[5].isEmpty ? TierOptions.defaultJobs : max(1, Int(arguments[5]) ?? 1)
        let cacheRoot = arguments[2].isEmpty ? ArtifactCache.defaultRoot() : URL(fileURLWithPath: arguments[2])
        func openCache() -> ArtifactCache {
            do {
                return try ArtifactCache(root: cacheRoot)
            } catch {
                fail(error.description)
            }
        }
        let verbose = arguments[6] == "1"
        let module = arguments[8]
        Timeline.mark("parsed (launcher)")
        let artifact = tieredArtifact(input: module, choice: tier, opt: opt, cache: openCache(), verbose: verbose, backgroundJobs: jobs)
        var environment = ProcessInfo.processInfo.environment
        environment["WASMAOT_WASI"] = arguments[7]
        Timeline.mark("exec")
        execute(artifact.path, argv: [module] + arguments.dropFirst(9), environment: environment)
    }
}
