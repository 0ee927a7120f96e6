import Foundation
import WasmAOTCache
import XCTest

/// A prebuilt image artifact is used only when module digest, identity, architecture and the
/// artifact's own digest all match.
final class ImageArtifactsTests: XCTestCase {
    func testOnlyAnExactMatchIsTrusted() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("image-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let module = dir.appendingPathComponent("app.wasm").path
        let bytes = Array("\0asm module bytes".utf8)
        try Data(bytes).write(to: URL(fileURLWithPath: module))
        try ImageArtifacts.publish(module: module, moduleBytes: bytes, identity: "id-1", arch: "x86_64", cpu: "baseline", options: "O2") {
            try "native code".write(toFile: $0, atomically: false, encoding: .utf8)
        }
        let ok = ImageArtifacts.verified(module: module, moduleBytes: bytes, identity: "id-1", arch: "x86_64")
        XCTAssertEqual(ok.path, "\(dir.path)/app.wasm.wasmaot/x86_64", ok.reason)

        XCTAssertNil(ImageArtifacts.verified(module: module, moduleBytes: bytes + [0], identity: "id-1", arch: "x86_64").path)
        XCTAssertNil(ImageArtifacts.verified(module: module, moduleBytes: bytes, identity: "id-2", arch: "x86_64").path)
        XCTAssertNil(ImageArtifacts.verified(module: module, moduleBytes: bytes, identity: "id-1", arch: "aarch64").path)
        // Another architecture's artifact, with its own identity, joins the manifest; each
        // architecture is checked against its own identity only.
        try ImageArtifacts.publish(module: module, moduleBytes: bytes, identity: "id-arm", arch: "aarch64", cpu: "baseline", options: "O2") {
            try "arm code".write(toFile: $0, atomically: false, encoding: .utf8)
        }
        XCTAssertEqual(ImageArtifacts.verified(module: module, moduleBytes: bytes, identity: "id-1", arch: "x86_64").path, ok.path)
        let arm = ImageArtifacts.verified(module: module, moduleBytes: bytes, identity: "id-arm", arch: "aarch64")
        XCTAssertEqual(arm.path, "\(dir.path)/app.wasm.wasmaot/aarch64", arm.reason)
        XCTAssertNil(ImageArtifacts.verified(module: module, moduleBytes: bytes, identity: "id-1", arch: "aarch64").path)
        XCTAssertNil(ImageArtifacts.verified(module: module, moduleBytes: bytes, identity: "id-arm", arch: "x86_64").path)
        XCTAssertEqual(try String(contentsOfFile: arm.path!, encoding: .utf8), "arm code")
        // A different module replaces the manifest: the old module's artifacts are dropped.
        let other = Array("\0asm other module".utf8)
        try ImageArtifacts.publish(module: module, moduleBytes: other, identity: "id-arm", arch: "aarch64", cpu: "baseline", options: "O2") {
            try "arm code 2".write(toFile: $0, atomically: false, encoding: .utf8)
        }
        XCTAssertNil(ImageArtifacts.verified(module: module, moduleBytes: other, identity: "id-1", arch: "x86_64").path)
        XCTAssertNotNil(ImageArtifacts.verified(module: module, moduleBytes: other, identity: "id-arm", arch: "aarch64").path)
        try ImageArtifacts.publish(module: module, moduleBytes: bytes, identity: "id-1", arch: "x86_64", cpu: "baseline", options: "O2") {
            try "native code".write(toFile: $0, atomically: false, encoding: .utf8)
        }

        try "tampered code".write(toFile: ok.path!, atomically: false, encoding: .utf8)
        let tampered = ImageArtifacts.verified(module: module, moduleBytes: bytes, identity: "id-1", arch: "x86_64")
        XCTAssertNil(tampered.path)
        XCTAssertTrue(tampered.reason.contains("digest"), tampered.reason)
    }
}
