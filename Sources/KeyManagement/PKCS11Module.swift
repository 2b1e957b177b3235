#if canImport(Glibc)
import Glibc
#endif
import CPKCS11
import Synchronization

/// A PKCS#11 module loaded with dlopen and initialised once per process.
final class PKCS11Module: @unchecked Sendable {
    // @unchecked: `logins` is only touched while holding `lock`; the rest is immutable.
    let path: String
    let functions: UnsafeMutablePointer<CK_FUNCTION_LIST>
    private let handle: UnsafeMutableRawPointer
    /// False when something else in the process had already initialised the module.
    private let ownsInitialization: Bool
    /// Serialises every call into the module.
    let lock = Mutex(())
    /// Providers logged in, per slot; guarded by `lock`.
    var logins: [CK_SLOT_ID: Int] = [:]

    private static let registry = Mutex<[String: (module: UnsafeTransfer<PKCS11Module>, users: Int)]>([:])

    private init(path: String) throws(KeyError) {
        self.path = path
        guard let handle = dlopen(path, RTLD_NOW | RTLD_LOCAL) else {
            let reason = dlerror().map { String(cString: $0) } ?? "unknown error"
            throw .provider("cannot load PKCS#11 module \(path): \(reason)")
        }
        guard let symbol = dlsym(handle, "C_GetFunctionList") else {
            dlclose(handle)
            throw .provider("\(path) is not a PKCS#11 module (no C_GetFunctionList)")
        }
        let getFunctionList = unsafeBitCast(symbol, to: CK_C_GetFunctionList.self)
        var list: UnsafeMutablePointer<CK_FUNCTION_LIST>?
        var rv = getFunctionList(&list)
        guard rv == CKR_OK, let list, list.pointee.C_Initialize != nil else {
            dlclose(handle)
            throw .provider("PKCS#11 module \(path): C_GetFunctionList failed: \(Self.name(of: rv))")
        }
        var arguments = CK_C_INITIALIZE_ARGS()
        arguments.flags = CK_FLAGS(CKF_OS_LOCKING_OK)
        rv = list.pointee.C_Initialize!(&arguments)
        guard rv == CKR_OK || rv == CKR_CRYPTOKI_ALREADY_INITIALIZED else {
            dlclose(handle)
            throw .provider("PKCS#11 module \(path): C_Initialize failed: \(Self.name(of: rv))")
        }
        self.handle = handle
        self.functions = list
        self.ownsInitialization = rv == CKR_OK
    }

    deinit {
        if ownsInitialization { _ = functions.pointee.C_Finalize?(nil) }
        dlclose(handle)
    }

    static func acquire(_ path: String) throws(KeyError) -> PKCS11Module {
        let result = registry.withLock { table -> Result<UnsafeTransfer<PKCS11Module>, KeyError> in
            if let entry = table[path] {
                table[path] = (entry.module, entry.users + 1)
                return .success(entry.module)
            }
            do throws(KeyError) {
                let module = UnsafeTransfer(try PKCS11Module(path: path))
                table[path] = (module, 1)
                return .success(module)
            } catch {
                return .failure(error)
            }
        }
        return try result.get().value
    }

    static func release(_ module: PKCS11Module) {
        // The last user's reference is dropped outside the registry lock, so C_Finalize does
        // not run while holding it.
        let last = registry.withLock { table -> UnsafeTransfer<PKCS11Module>? in
            guard let entry = table[module.path] else { return nil }
            if entry.users > 1 {
                table[module.path] = (entry.module, entry.users - 1)
                return nil
            }
            table[module.path] = nil
            return entry.module
        }
        _ = last
    }

    static func name(of rv: CK_RV) -> String {
        let names: [CK_RV: String] = [
            CK_RV(CKR_CANCEL): "CKR_CANCEL", CK_RV(CKR_HOST_MEMORY): "CKR_HOST_MEMORY", CK_RV(CKR_SLOT_ID_INVALID): "CKR_SLOT_ID_INVALID",
            CK_RV(CKR_GENERAL_ERROR): "CKR_GENERAL_ERROR", CK_RV(CKR_FUNCTION_FAILED): "CKR_FUNCTION_FAILED",
            CK_RV(CKR_ARGUMENTS_BAD): "CKR_ARGUMENTS_BAD", CK_RV(CKR_ATTRIBUTE_READ_ONLY): "CKR_ATTRIBUTE_READ_ONLY",
            CK_RV(CKR_ATTRIBUTE_SENSITIVE): "CKR_ATTRIBUTE_SENSITIVE", CK_RV(CKR_ATTRIBUTE_TYPE_INVALID): "CKR_ATTRIBUTE_TYPE_INVALID",
            CK_RV(CKR_ATTRIBUTE_VALUE_INVALID): "CKR_ATTRIBUTE_VALUE_INVALID", CK_RV(CKR_DATA_INVALID): "CKR_DATA_INVALID",
            CK_RV(CKR_DATA_LEN_RANGE): "CKR_DATA_LEN_RANGE", CK_RV(CKR_DEVICE_ERROR): "CKR_DEVICE_ERROR",
            CK_RV(CKR_DEVICE_MEMORY): "CKR_DEVICE_MEMORY", CK_RV(CKR_DEVICE_REMOVED): "CKR_DEVICE_REMOVED",
            CK_RV(CKR_ENCRYPTED_DATA_INVALID): "CKR_ENCRYPTED_DATA_INVALID", CK_RV(CKR_ENCRYPTED_DATA_LEN_RANGE): "CKR_ENCRYPTED_DATA_LEN_RANGE",
            CK_RV(CKR_FUNCTION_NOT_SUPPORTED): "CKR_FUNCTION_NOT_SUPPORTED", CK_RV(CKR_KEY_HANDLE_INVALID): "CKR_KEY_HANDLE_INVALID",
            CK_RV(CKR_KEY_SIZE_RANGE): "CKR_KEY_SIZE_RANGE", CK_RV(CKR_KEY_TYPE_INCONSISTENT): "CKR_KEY_TYPE_INCONSISTENT",
            CK_RV(CKR_KEY_FUNCTION_NOT_PERMITTED): "CKR_KEY_FUNCTION_NOT_PERMITTED", CK_RV(CKR_MECHANISM_INVALID): "CKR_MECHANISM_INVALID",
            CK_RV(CKR_MECHANISM_PARAM_INVALID): "CKR_MECHANISM_PARAM_INVALID", CK_RV(CKR_OBJECT_HANDLE_INVALID): "CKR_OBJECT_HANDLE_INVALID",
            CK_RV(CKR_OPERATION_ACTIVE): "CKR_OPERATION_ACTIVE", CK_RV(CKR_OPERATION_NOT_INITIALIZED): "CKR_OPERATION_NOT_INITIALIZED",
            CK_RV(CKR_PIN_INCORRECT): "CKR_PIN_INCORRECT", CK_RV(CKR_PIN_INVALID): "CKR_PIN_INVALID", CK_RV(CKR_PIN_LEN_RANGE): "CKR_PIN_LEN_RANGE",
            CK_RV(CKR_PIN_EXPIRED): "CKR_PIN_EXPIRED", CK_RV(CKR_PIN_LOCKED): "CKR_PIN_LOCKED",
            CK_RV(CKR_SESSION_CLOSED): "CKR_SESSION_CLOSED", CK_RV(CKR_SESSION_COUNT): "CKR_SESSION_COUNT",
            CK_RV(CKR_SESSION_HANDLE_INVALID): "CKR_SESSION_HANDLE_INVALID", CK_RV(CKR_SESSION_READ_ONLY): "CKR_SESSION_READ_ONLY",
            CK_RV(CKR_TEMPLATE_INCOMPLETE): "CKR_TEMPLATE_INCOMPLETE", CK_RV(CKR_TEMPLATE_INCONSISTENT): "CKR_TEMPLATE_INCONSISTENT",
            CK_RV(CKR_TOKEN_NOT_PRESENT): "CKR_TOKEN_NOT_PRESENT", CK_RV(CKR_TOKEN_NOT_RECOGNIZED): "CKR_TOKEN_NOT_RECOGNIZED",
            CK_RV(CKR_TOKEN_WRITE_PROTECTED): "CKR_TOKEN_WRITE_PROTECTED", CK_RV(CKR_USER_ALREADY_LOGGED_IN): "CKR_USER_ALREADY_LOGGED_IN",
            CK_RV(CKR_USER_NOT_LOGGED_IN): "CKR_USER_NOT_LOGGED_IN", CK_RV(CKR_USER_PIN_NOT_INITIALIZED): "CKR_USER_PIN_NOT_INITIALIZED",
            CK_RV(CKR_USER_TYPE_INVALID): "CKR_USER_TYPE_INVALID", CK_RV(CKR_BUFFER_TOO_SMALL): "CKR_BUFFER_TOO_SMALL",
            CK_RV(CKR_CRYPTOKI_NOT_INITIALIZED): "CKR_CRYPTOKI_NOT_INITIALIZED",
            CK_RV(CKR_CRYPTOKI_ALREADY_INITIALIZED): "CKR_CRYPTOKI_ALREADY_INITIALIZED",
        ]
        let hex = "0x" + String(rv, radix: 16)
        return names[rv].map { "\($0) (\(hex))" } ?? "PKCS#11 error \(hex)"
    }
}
