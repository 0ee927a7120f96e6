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

    /// containerd's shim and conmon: `--process FILE`; the ID is the only positional word.
    func testExecWithProcessFile() {
        let argv = ["--root", "/run/containerd/runc/k8s.io", "--log", "/b/log.json", "--log-format", "json",
                    "exec", "--process", "/tmp/runc-process123", "--detach", "--pid-file", "/b/p.pid", "id1"]
        let a = RuntimeArguments(argv)
        XCTAssertEqual(a.command, "exec")
        XCTAssertEqual(a.delegateArguments, argv, "passed on unchanged")
        XCTAssertEqual(a.commandIndex, 6)
        XCTAssertEqual(a.process, "/tmp/runc-process123")
        XCTAssertEqual(a.containerID, "id1")
        XCTAssertEqual(a.idIndex, 12)
        XCTAssertEqual(a.flagsEnd, 12)
        XCTAssertEqual(a.commandWordIndex, -1)
        XCTAssertNil(a.bundle)
        let podman = RuntimeArguments(["exec", "-d", "--pid-file=/x/pid", "--console-socket", "/x/s", "-p", "/x/exec-process-1", "--", "c2"])
        XCTAssertEqual(podman.process, "/x/exec-process-1")
        XCTAssertEqual(podman.containerID, "c2")
        XCTAssertEqual(podman.idIndex, 8)
        XCTAssertEqual(podman.flagsEnd, 7, "a --env goes before the \"--\"")
        XCTAssertEqual(RuntimeArguments(["exec", "--process=/p.json", "c3"]).process, "/p.json")
    }

    /// The CLI form: flags end at the ID; everything after it is the command, flags or not.
    func testExecPositional() {
        let a = RuntimeArguments(["--root", "/r", "exec", "-t", "--cwd", "/data", "-e", "A=1", "--env=B=2", "--user", "0:0",
                                  "--preserve-fds", "1", "ctr", "/app.wasm", "--env", "C=3", "-e"])
        XCTAssertEqual(a.root, "/r")
        XCTAssertEqual(a.containerID, "ctr")
        XCTAssertEqual(a.delegateArguments[a.idIndex], "ctr")
        XCTAssertEqual(a.delegateArguments[a.commandWordIndex], "/app.wasm")
        XCTAssertEqual(a.flagsEnd, a.idIndex)
        XCTAssertEqual(a.cwd, "/data")
        XCTAssertEqual(a.env, ["A=1", "B=2"], "words after the command are its arguments")
        XCTAssertEqual(a.envFlag, "-e", "runc refuses -e and --env together: reuse the form given first")
        XCTAssertNil(a.process)
        XCTAssertEqual(RuntimeArguments(["exec", "--env", "X=1", "id", "cmd"]).envFlag, "--env")
        XCTAssertEqual(RuntimeArguments(["exec", "id", "cmd"]).envFlag, "--env")
        let bare = RuntimeArguments(["exec", "id"])
        XCTAssertEqual(bare.containerID, "id")
        XCTAssertEqual(bare.commandWordIndex, -1)
        let none = RuntimeArguments(["exec", "--cwd"])
        XCTAssertNil(none.containerID, "a flag missing its value: the delegate reports it")
        XCTAssertEqual(none.idIndex, -1)
        // Unknown flags take no value (crun's --tty[=TTY] only after "=").
        let unknown = RuntimeArguments(["exec", "--new-bool", "--tty=true", "ctr", "cmd"])
        XCTAssertEqual(unknown.containerID, "ctr")
    }
}
