import WasmParser
import WasmTypes

enum FunctionTypeText {
    static func make(_ params: [ValueType], _ results: [ValueType]) -> FunctionType {
        FunctionType(parameters: params, results: results)
    }
}
