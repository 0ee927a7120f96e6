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
        try "tampered code".write(toFile: ok.path!, atomically: false, encoding: .utf8)
        let tampered = ImageArtifacts.verified(module: module, moduleBytes: bytes, identity: "id-1", arch: "x86_64")
        XCTAssertNil(tampered.path)
        XCTAssertTrue(tampered.reason.contains("digest"), tampered.reason)
    }
}
