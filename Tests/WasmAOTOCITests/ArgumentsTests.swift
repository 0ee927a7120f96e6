import XCTest
import CWasmAOTOCI

final class ArgumentsTests: XCTestCase {
    func testPodmanCreate() {
        let argv = ["create", "--bundle", "/b", "--pid-file", "/p", "ctr1"]
        let a = RuntimeArguments(argv)
        XCTAssertEqual(a.command, "create")
        XCTAssertEqual(a.bundle, "/b")
        XCTAssertEqual(a.containerID, "ctr1")
        XCTAssertEqual(a.delegateArguments, argv)
    }

    func testContainerdGlobals() {
        let argv = ["--root", "/run/containerd/runc/k8s.io", "--log", "/b/log.json", "--log-format", "json",
                    "create", "--bundle=/b", "--console-socket", "/s", "id"]
        let a = RuntimeArguments(argv)
        XCTAssertEqual(a.root, "/run/containerd/runc/k8s.io")
        XCTAssertEqual(a.log, "/b/log.json")
        XCTAssertEqual(a.logFormat, "json")
        XCTAssertEqual(a.command, "create")
        XCTAssertEqual(a.bundle, "/b")
        XCTAssertEqual(a.containerID, "id")
        XCTAssertEqual(a.delegateArguments, argv)
    }

    func testRunShortFlagsAndBooleans() {
        let a = RuntimeArguments(["--debug", "--systemd-cgroup", "run", "-d", "-b", "bundle", "--no-pivot", "x"])
        XCTAssertEqual(a.command, "run")
        XCTAssertEqual(a.bundle, "bundle")
        XCTAssertEqual(a.containerID, "x")
        let b = RuntimeArguments(["-root=/r", "run", "-b=/bb", "y"])
        XCTAssertEqual(b.root, "/r")
        XCTAssertEqual(b.bundle, "/bb")
        XCTAssertEqual(b.containerID, "y")
    }

    func testNoBundleMeansNil() {
        let a = RuntimeArguments(["create", "id"])
        XCTAssertNil(a.bundle)
        XCTAssertEqual(a.containerID, "id")
    }

    func testOtherCommandsPassThroughUnchanged() {
        for argv in [["start", "id"], ["delete", "--force", "id"], ["kill", "id", "15"], ["--version"], ["-v"],
                     ["exec", "--detach", "--process", "/p.json", "id"], ["features"], ["state", "id"], []] {
            let a = RuntimeArguments(argv)
            XCTAssertEqual(a.delegateArguments, argv)
            XCTAssertNil(a.bundle)
        }
        XCTAssertEqual(RuntimeArguments(["kill", "id", "15"]).command, "kill")
        XCTAssertNil(RuntimeArguments(["--version"]).command)
    }

    func testUnknownGlobalFlagsPassThrough() {
        let withValue = RuntimeArguments(["--cgroup-root", "/x", "--new-flag", "v", "create", "-b", "/b", "id"])
        XCTAssertEqual(withValue.command, "create")
        XCTAssertEqual(withValue.bundle, "/b")
        XCTAssertEqual(withValue.delegateArguments, ["--cgroup-root", "/x", "--new-flag", "v", "create", "-b", "/b", "id"])
        let boolean = RuntimeArguments(["--new-bool", "start", "id"])
        XCTAssertEqual(boolean.command, "start")
        XCTAssertEqual(boolean.delegateArguments, ["--new-bool", "start", "id"])
    }

    func testHandlerFlagIsStripped() {
        let a = RuntimeArguments(["--root", "/r", "--handler", "wasm", "run", "id"])
        XCTAssertEqual(a.handler, "wasm")
        XCTAssertEqual(a.delegateArguments, ["--root", "/r", "run", "id"])
        let b = RuntimeArguments(["--handler=wasm", "state", "id"])
        XCTAssertEqual(b.handler, "wasm")
        XCTAssertEqual(b.delegateArguments, ["state", "id"])
    }

    func testWasmaotConfigFlagIsStripped() {
        let a = RuntimeArguments(["--wasmaot-config", "/etc/x.toml", "--root", "/r", "create", "-b", "/b", "id"])
        XCTAssertEqual(a.config, "/etc/x.toml")
        XCTAssertEqual(a.delegateArguments, ["--root", "/r", "create", "-b", "/b", "id"])
        XCTAssertEqual(RuntimeArguments(["--wasmaot-config=/y", "delete", "id"]).delegateArguments, ["delete", "id"])
    }
}
