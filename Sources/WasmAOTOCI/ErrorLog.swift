#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Reports a failure the way runc does, so engines show it: containerd's shim reads the --log file
/// (JSON lines) when `create` fails; podman/conmon show stderr.
public enum ErrorLog {
    /// One log line in runc's format: logrus JSON or logrus text.
    public static func line(_ message: String, format: String?, time: String) -> String {
        if format == "json" {
            return "{\"level\":\"error\",\"msg\":\(jsonString(message)),\"time\":\(jsonString(time))}\n"
        }
        return "time=\(jsonString(time)) level=error msg=\(jsonString(message))\n"
    }

    public static func report(_ message: String, log: String?, format: String?) {
        let text = "wasmaot-oci: " + message
        let out = Array((text + "\n").utf8)
        _ = out.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        guard let log else { return }
        let fd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        let bytes = Array(line(text, format: format, time: rfc3339Now()).utf8)
        _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    static func rfc3339Now() -> String {
        var t = time(nil), tmv = tm()
        gmtime_r(&t, &tmv)
        var buf = [CChar](repeating: 0, count: 32)
        let n = strftime(&buf, buf.count, "%Y-%m-%dT%H:%M:%SZ", &tmv)
        return String(decoding: buf[0..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A JSON string literal (also valid logrus text quoting for what we write).
    public static func jsonString(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\t": out += "\\t"
            case "\r": out += "\\r"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }
}
