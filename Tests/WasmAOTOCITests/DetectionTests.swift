import XCTest
import CWasmAOTOCI

final class DetectionTests: XCTestCase {
    /// The magic-byte probe must only run when the answer depends on it (it reads the rootfs).
    private func decide(_ a: [String: String], handler: Bool = false, magic: Bool) -> (Bool, probed: Bool) {
        var probed = false
        let r = WasmDetection.isWasm(annotations: a, handlerMode: handler) { probed = true; return magic }
        return (r, probed)
    }

    func testAlwaysWasmAnnotations() {
        XCTAssertEqual(decide(["module.wasm.image/variant": "compat"], magic: false).0, true)
        XCTAssertEqual(decide(["run.oci.handler": "wasm"], magic: false).0, true)
        XCTAssertFalse(decide(["run.oci.handler": "wasm"], magic: false).probed)
    }

    func testSmartVariantsNeedMagic() {
        for a in [["module.wasm.image/variant": "compat-smart"], ["run.oci.handler": "wasm-smart"]] {
            XCTAssertEqual(decide(a, magic: true).0, true, "\(a)")
            XCTAssertEqual(decide(a, magic: false).0, false, "\(a)")
        }
    }

    func testNoAnnotationsIsNativeWithoutProbing() {
        let r = decide(["module.wasm.image/variant": "other", "foo": "bar"], magic: true)
        XCTAssertFalse(r.0)
        XCTAssertFalse(r.probed)
    }

    func testHandlerModeUsesMagic() {
        XCTAssertTrue(decide([:], handler: true, magic: true).0)
        XCTAssertFalse(decide([:], handler: true, magic: false).0)
    }

    func testSandboxIsNeverWasm() {
        let sandbox = ["io.kubernetes.cri.container-type": "sandbox", "module.wasm.image/variant": "compat",
                       "run.oci.handler": "wasm"]
        XCTAssertFalse(decide(sandbox, handler: true, magic: true).0)
        XCTAssertFalse(decide(["io.kubernetes.cri-o.ContainerType": "sandbox", "run.oci.handler": "wasm"], magic: true).0)
        XCTAssertTrue(decide(["io.kubernetes.cri.container-type": "container", "run.oci.handler": "wasm"], magic: true).0)
    }

    func testHandlerName() {
        XCTAssertTrue(WasmDetection.isHandlerName("/usr/local/bin/wasmaot-oci-wasm"))
        XCTAssertTrue(WasmDetection.isHandlerName("wasmaot-oci-wasm"))
        XCTAssertFalse(WasmDetection.isHandlerName("/usr/local/bin/wasmaot-oci"))
        XCTAssertFalse(WasmDetection.isHandlerName("/opt/x-wasm/wasmaot-oci"))
    }
}
