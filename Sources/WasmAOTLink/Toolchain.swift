import Foundation

/// The system C toolchain used to link (and to build the runtime archive): checked up front so
/// a missing package is named exactly instead of failing mid-link.
public struct Toolchain: Sendable {
    public var compilerDriver: String

    /// Finds the C compiler driver for `gnuTriple` and its static C library.
    public static func find(for gnuTriple: String) throws(LinkError) -> Toolchain {
        let native = gnuTriple == hostGNUTriple
        let candidates = native ? ["cc", "gcc", "clang"] : ["\(gnuTriple)-gcc"]
        guard let driver = candidates.lazy.compactMap(which).first else {
            let package = native ? "gcc libc6-dev" : "gcc-\(gnuTriple.replacingOccurrences(of: "_", with: "-")) libc6-dev-\(debianArch(gnuTriple))-cross"
            throw LinkError("no C compiler/linker for \(gnuTriple) found (looked for \(candidates.joined(separator: ", "))); install it with: apt-get install \(package)")
        }
        if native && !FileManager.default.fileExists(atPath: "/usr/lib/\(gnuTriple)/libc.a") {
            throw LinkError("static C library /usr/lib/\(gnuTriple)/libc.a not found; install it with: apt-get install libc6-dev")
        }
        if !native {
            // The cross driver's sysroot (Debian: /usr/<triple>/lib from libc6-dev-<arch>-cross).
            let found = run(driver, ["-print-file-name=libc.a"]).output.trimmingCharacters(in: .whitespacesAndNewlines)
            if !found.hasPrefix("/") || !FileManager.default.fileExists(atPath: found) {
                throw LinkError("static C library for \(gnuTriple) not found (\(driver) -print-file-name=libc.a); install it with: apt-get install libc6-dev-\(debianArch(gnuTriple))-cross")
            }
        }
        return Toolchain(compilerDriver: driver)
    }

    public static var hostGNUTriple: String {
        #if arch(arm64)
        return "aarch64-linux-gnu"
        #else
        return "x86_64-linux-gnu"
        #endif
    }

    static func debianArch(_ gnuTriple: String) -> String {
        gnuTriple.hasPrefix("aarch64") ? "arm64" : "amd64"
    }

    static func which(_ name: String) -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        for dir in path.split(separator: ":") {
            let candidate = "\(dir)/\(name)"
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Runs a tool, capturing stdout+stderr.
    public static func run(_ executable: String, _ arguments: [String], currentDirectory: String? = nil) -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            return (127, "cannot run \(executable): \(error.localizedDescription)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
