import Foundation
import XCTest

/// The Kubernetes CRI path end to end: `cri/cri_test.py` starts a private containerd 1.6 with its
/// CRI plugin and the `wasmaot` runtime table of deploy/containerd/config.toml, and drives it over
/// CRI v1 gRPC the way the kubelet does (pod with a Wasm container and a native sidecar, logs,
/// exit codes, ExecSync, StopContainer, annotations). The script prints one `PASS`/`FAIL` line per
/// step and exits non-zero when a step that is not marked pending failed.
final class CRITests: XCTestCase {
    func testKubeletPathOverCRI() throws {
        guard geteuid() == 0 else { throw XCTSkip("the CRI suite runs a rootful containerd; run as root") }
        let tools = ["containerd", "containerd-shim-runc-v2", "ctr", "runc", "gcc", "clang-14", "busybox"]
        let missing = tools.filter { Paths.which($0) == nil }
        guard missing.isEmpty else {
            throw XCTSkip("CRI suite: missing \(missing.joined(separator: ", ")) (apt-get install -y containerd runc gcc clang-14 busybox-static; .ci/setup)")
        }
        guard let wrapper = Paths.built("wasmaot-oci") else {
            throw XCTSkip("wasmaot-oci is not built (swift build --product wasmaot-oci)")
        }
        let python = Paths.packageRoot.appendingPathComponent(".build/cri-venv/bin/python").path
        let script = Paths.packageRoot.appendingPathComponent("Tests/ContainerTests/cri/cri_test.py").path
        let scratch = try Scratch("wasmaot-critest")
        defer { scratch.cleanup() }
        guard FileManager.default.isExecutableFile(atPath: python),
              try runCommand(python, ["-c", "import grpc, cri_api.v1.api_pb2"], scratch: scratch.url, timeout: 60).status == 0
        else {
            throw XCTSkip("\(python) cannot import cri_api and grpc: run .ci/setup (PyPI container-runtime-interface-api + grpcio into .build/cri-venv)")
        }
        let json = scratch.path + "/results.json"
        // The script cleans up after its own --timeout; runCommand kills it (SIGKILL, no clean-up) only later.
        guard let wasmaot = Paths.built("wasmaot") else { throw XCTSkip("wasmaot is not built (swift build --product wasmaot)") }
        let r = try runCommand(python, [script, "--wrapper", wrapper, "--wasmaot", wasmaot, "--json", json, "--timeout", "90"],
                               scratch: scratch.url, timeout: 110)
        print(r.stdout)
        XCTAssertEqual(r.status, 0, "cri_test.py failed:\n\(r.summary)")
    }
}
