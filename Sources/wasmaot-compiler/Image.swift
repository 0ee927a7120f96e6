import ArgumentParser
import Foundation
import WasmAOTCache
import WasmAOTCodegen
import WasmAOTCore
import WasmAOTImage

struct Image: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build OCI container images of Wasm modules (no buildah needed).",
        subcommands: [ImageBuild.self]
    )
}

struct ImageBuild: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Write an OCI image (archive or layout directory) that runs MODULE.",
        usage: "wasmaot image build <module> -o <output> [<options>] [-- <arg> ...]",
        discussion: """
            The module goes to --entrypoint (/app.wasm) in a FROM-scratch image whose
            ENTRYPOINT is that path and whose CMD holds the default arguments
            (Kubernetes `args:` replace only those). The annotation and label
            module.wasm.image/variant make podman and wasmaot-oci run it as Wasm
            (containerd reads it from the pod). Same inputs, same digests
            (SOURCE_DATE_EPOCH sets the time stamps; default 0).

            Examples:
              wasmaot image build app.wasm -o app.tar --tag localhost/app:1.0
              podman load -i app.tar
              ctr -n k8s.io images import app.tar
              # default arguments (after --), environment, a data file
              wasmaot image build app.wasm -o app.tar --env MODE=prod -- --port 80
              wasmaot image build app.wasm -o app.tar --add conf.json:/etc/conf.json
              # prebuilt artifacts, an index of linux/amd64 + linux/arm64
              wasmaot image build app.wasm -o app.tar --prebuilt x86_64,aarch64
              # a wasi/wasm image (podman >= 4.6, CRI-O platform_runtime_paths)
              wasmaot image build app.wasm -o app-oci --format oci-dir --platform wasi

            See also: README.md (Building images), deploy/README.md.
            """
    )

    @Argument(help: "The Wasm module (.wasm).")
    var module: String

    @Argument(parsing: .postTerminator, help: ArgumentHelp("Default arguments (image CMD), after --.", valueName: "ARG"))
    var trailingArgs: [String] = []

    @Option(name: .shortAndLong, help: "Output: the archive file, or the layout directory.")
    var output: String

    @Option(help: ArgumentHelp("oci-archive (a tar) or oci-dir (an OCI image layout).", valueName: "FORMAT"))
    var format: String = "oci-archive"

    @Option(help: ArgumentHelp("Image reference recorded in the output (default localhost/NAME:latest).", valueName: "REF"))
    var tag: String?

    @Option(name: .customLong("arg"), help: ArgumentHelp("Default argument (image CMD); repeat. Same as ARGs after --.", valueName: "A"))
    var args: [String] = []

    @Option(name: .customLong("env"), help: ArgumentHelp("Environment variable of the image; repeat.", valueName: "K=V"))
    var env: [String] = []

    @Option(help: ArgumentHelp("Working directory of the guest.", valueName: "DIR"))
    var workdir: String = "/"

    @Option(help: ArgumentHelp("Where the module goes in the image.", valueName: "PATH"))
    var entrypoint: String = "/app.wasm"

    @Option(name: .customLong("add"), help: ArgumentHelp("Add a host file or directory at an image path; repeat.", valueName: "SRC:DEST"))
    var adds: [String] = []

    @Option(name: .customLong("label"), help: ArgumentHelp("Image config label; repeat.", valueName: "K=V"))
    var labels: [String] = []

    @Option(name: .customLong("annotation"), help: ArgumentHelp("Manifest annotation; repeat.", valueName: "K=V"))
    var annotations: [String] = []

    @Option(help: ArgumentHelp("module.wasm.image/variant: compat (always Wasm) or compat-smart (by the entrypoint's magic).",
                               valueName: "V"))
    var variant: String = "compat"

    @Option(help: ArgumentHelp("linux (linux/ARCH images) or wasi (one wasi/wasm image).", valueName: "P"))
    var platform: String = "linux"

    @Option(help: ArgumentHelp("linux/ARCH images to write (default: the --prebuilt list, else this machine's).",
                               valueName: "ARCH[,ARCH]"))
    var arch: String?

    @Option(help: ArgumentHelp("Compile artifacts for these architectures into the image (MODULE.wasmaot/).",
                               valueName: "ARCH[,ARCH]"))
    var prebuilt: String?

    @Option(name: .customShort("O", allowingJoined: true), help: ArgumentHelp("Optimization level of --prebuilt.", valueName: "N"))
    var optLevel: Int = 2

    @Option(name: .customLong("cpu"), help: ArgumentHelp("CPU of --prebuilt artifacts.", valueName: "CPU"))
    var cpu: String = "baseline"

    func validate() throws {
        guard ImageFormat(rawValue: format) != nil else { throw ValidationError("--format expects oci-archive or oci-dir") }
        guard ["compat", "compat-smart"].contains(variant) else { throw ValidationError("--variant expects compat or compat-smart") }
        guard ["linux", "wasi"].contains(platform) else { throw ValidationError("--platform expects linux or wasi") }
        guard OptLevel(rawValue: optLevel) != nil else { throw ValidationError("-O expects 0, 1, 2 or 3") }
        guard entrypoint.hasPrefix("/") else { throw ValidationError("--entrypoint must be an absolute path in the image") }
        guard workdir.hasPrefix("/") else { throw ValidationError("--workdir must be an absolute path in the image") }
        for e in env { _ = try checkedEnvEntry(e) }
        for (flag, list) in [("--label", labels), ("--annotation", annotations)] {
            for kv in list where !kv.contains("=") || kv.hasPrefix("=") { throw ValidationError("\(flag) '\(kv)': expected KEY=VALUE") }
        }
        for a in adds where a.range(of: ":/") == nil { throw ValidationError("--add '\(a)': expected SRC:/ABSOLUTE/DEST") }
        _ = try architectures(arch, "--arch")
        _ = try architectures(prebuilt, "--prebuilt")
        if platform == "wasi", arch != nil { throw ValidationError("--arch is for --platform linux (a wasi image has no architecture)") }
    }

    func architectures(_ list: String?, _ flag: String) throws -> [Architecture] {
        guard let list else { return [] }
        var out: [Architecture] = []
        for word in list.split(separator: ",", omittingEmptySubsequences: false) {
            guard let a = Architecture(name: String(word)) else {
                throw ValidationError("unknown \(flag) '\(word)' (supported: x86_64, aarch64; aliases amd64, arm64)")
            }
            if !out.contains(a) { out.append(a) }
        }
        return out
    }

    func run() throws {
        do {
            try build()
        } catch let error as ImageError {
            fail(error.description)
        } catch let error as Pipeline.Failure {
            fail(error.description)
        } catch {
            fail("\(error)")
        }
    }

    func build() throws {
        let bytes: [UInt8]
        do {
            bytes = try ModuleFile.read(module)
        } catch {
            throw ImageError("\(module): \(error)")
        }
        // A module that would not compile is refused here, not on the node.
        do {
            _ = try WasmModule.decode(bytes: bytes)
        } catch {
            throw ImageError("\(module): \(error)")
        }
        let prebuiltArchs = try architectures(prebuilt, "--prebuilt")
        var linuxArchs = try architectures(arch, "--arch")
        if linuxArchs.isEmpty { linuxArchs = prebuiltArchs.isEmpty ? [.host] : prebuiltArchs }

        // Prebuilt artifacts: `compile --for-image` into a scratch copy of the module.
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("wasmaot-image-\(getpid())").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        var manifest: ImageManifest?
        let entryName = URL(fileURLWithPath: entrypoint).lastPathComponent
        let scratchModule = "\(scratch)/\(entryName)"
        if !prebuiltArchs.isEmpty {
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            let profile = CodegenProfile.level(OptLevel(rawValue: optLevel)!)
            for a in prebuiltArchs {
                note("compiling \(entryName) for \(a.rawValue)")
                try ImageArtifacts.publish(module: scratchModule, moduleBytes: bytes, identity: WasmAOT.identity(for: a), arch: a.rawValue,
                                           cpu: CPUChoice(cpu).description, options: ArtifactKey.options(profile)) { temporary in
                    try Pipeline(input: module, output: temporary, profile: profile, architecture: a, cpu: CPUChoice(cpu),
                                 emit: .exe, bytes: bytes).run()
                }
            }
            let text = FileManager.default.contents(atPath: "\(ImageArtifacts.directory(forModule: scratchModule))/manifest.json")
            manifest = try text.map { try JSONDecoder().decode(ImageManifest.self, from: $0) }
        }

        // Layer 1 (shared by every platform): the module and --add files. Layer 2: artifacts.
        var base = [ImageFile(path: entrypoint, content: .bytes(bytes), mode: 0o755)]
        for a in adds { base += try added(a) }
        func artifactLayer(_ archs: [Architecture]) throws -> [ImageFile] {
            guard var m = manifest, !archs.isEmpty else { return [] }
            m.artifacts = m.artifacts.filter { key, _ in archs.contains { $0.rawValue == key } }
            let dir = ImageArtifacts.directory(forModule: entrypoint)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            var files = [ImageFile(path: "\(dir)/manifest.json", content: .bytes(Array(try encoder.encode(m))), mode: 0o644)]
            for a in archs {
                files.append(ImageFile(path: "\(dir)/\(a.rawValue)",
                                       content: .file("\(ImageArtifacts.directory(forModule: scratchModule))/\(a.rawValue)"), mode: 0o755))
            }
            return files
        }
        var annotationMap = ["module.wasm.image/variant": variant]
        for kv in annotations { annotationMap[String(kv.prefix { $0 != "=" })] = String(kv.drop { $0 != "=" }.dropFirst()) }
        var labelMap = ["module.wasm.image/variant": variant]
        for kv in labels { labelMap[String(kv.prefix { $0 != "=" })] = String(kv.drop { $0 != "=" }.dropFirst()) }
        let config = ImageRunConfig(entrypoint: [entrypoint], cmd: args + trailingArgs, env: env, workingDir: workdir, labels: labelMap)
        let history = ["wasmaot image build: \(entryName)"]
        var platforms: [ImagePlatformSpec] = []
        if platform == "wasi" {
            let extra = try artifactLayer(prebuiltArchs)
            platforms.append(ImagePlatformSpec(platform: ImagePlatform(os: "wasi", architecture: "wasm"), layers: extra.isEmpty ? [base] : [base, extra],
                                               config: config, annotations: annotationMap,
                                               history: extra.isEmpty ? history : history + ["wasmaot image build: prebuilt artifacts"]))
        } else {
            for a in linuxArchs {
                let extra = try artifactLayer(prebuiltArchs.contains(a) ? [a] : [])
                platforms.append(ImagePlatformSpec(platform: ImagePlatform(os: "linux", architecture: a.ociName),
                                                   layers: extra.isEmpty ? [base] : [base, extra], config: config, annotations: annotationMap,
                                                   history: extra.isEmpty ? history : history + ["wasmaot image build: prebuilt \(a.rawValue) artifact"]))
            }
        }
        let reference = tag ?? "localhost/\(defaultName):latest"
        let epoch = ProcessInfo.processInfo.environment["SOURCE_DATE_EPOCH"].flatMap { Int64($0) } ?? 0
        note("writing \(output)")
        let result = try OCIImage.write(ImageSpec(reference: reference, platforms: platforms, created: epoch), to: output,
                                        format: ImageFormat(rawValue: format)!)
        print("\(output): \(format) \(reference)")
        print("  \(result.mediaType == "application/vnd.oci.image.index.v1+json" ? "index   " : "manifest") \(result.digest)")
        if result.manifests.count > 1 {
            for m in result.manifests { print("    \(m.platform)  \(m.digest)") }
        } else if let m = result.manifests.first {
            print("  platform \(m.platform)")
        }
    }

    /// NAME of the default tag: the module's file name without .wasm, lower-cased, limited to the
    /// characters a reference may hold.
    var defaultName: String {
        var base = URL(fileURLWithPath: module).lastPathComponent
        if base.hasSuffix(".wasm") { base.removeLast(5) }
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-")
        let cleaned = String(base.lowercased().map { allowed.contains($0) ? $0 : "-" })
        return cleaned.trimmingCharacters(in: CharacterSet(charactersIn: "._-")).isEmpty ? "app" : cleaned
    }

    /// `--add SRC:DEST`: a file, or a directory with everything below it (regular files,
    /// directories and symlinks; modes kept, owners and times not).
    func added(_ spec: String) throws -> [ImageFile] {
        let split = spec.range(of: ":/", options: .backwards)!
        let src = String(spec[..<split.lowerBound]), dest = String(spec[spec.index(after: split.lowerBound)...])
        var st = stat()
        guard lstat(src, &st) == 0 else { throw ImageError("--add \(src): \(String(cString: strerror(errno)))") }
        func file(_ host: String, _ path: String, _ st: stat) throws -> ImageFile? {
            switch st.st_mode & S_IFMT {
            case S_IFREG: return ImageFile(path: path, content: .file(host), mode: UInt32(st.st_mode & 0o7777))
            case S_IFDIR: return ImageFile(path: path, content: .directory, mode: UInt32(st.st_mode & 0o7777))
            case S_IFLNK:
                guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: host) else {
                    throw ImageError("--add \(host): cannot read the symlink")
                }
                return ImageFile(path: path, content: .symlink(target), mode: 0o777)
            default: throw ImageError("--add \(host): not a regular file, directory or symlink")
            }
        }
        var out: [ImageFile] = []
        if let f = try file(src, dest, st) { out.append(f) }
        if st.st_mode & S_IFMT == S_IFDIR {
            guard let walker = FileManager.default.enumerator(atPath: src) else { throw ImageError("--add \(src): cannot list it") }
            while let rel = walker.nextObject() as? String {
                var s = stat()
                guard lstat("\(src)/\(rel)", &s) == 0 else { throw ImageError("--add \(src)/\(rel): \(String(cString: strerror(errno)))") }
                if let f = try file("\(src)/\(rel)", "\(dest)/\(rel)", s) { out.append(f) }
            }
        }
        return out
    }

    /// Progress on a terminal only (stderr), never when piped.
    func note(_ text: String) {
        if isatty(2) == 1 { FileHandle.standardError.write(Data("wasmaot image build: \(text)\n".utf8)) }
    }
}

extension Architecture {
    /// GOARCH spelling, as OCI platforms use it.
    var ociName: String {
        switch self {
        case .x86_64: "amd64"
        case .aarch64: "arm64"
        }
    }
}
