#if canImport(Glibc)
import Glibc
#endif
import CCurl

/// libcurl's easy interface, loaded with dlopen the first time a remote store is opened, so
/// that commands on a local store never load it (and the two dozen libraries it needs). Each
/// field is a function from dlsym, called through the typed wrappers of CCurl's shim.
struct Libcurl: @unchecked Sendable {
    // @unchecked: function addresses, fixed once loaded.
    let easyInit: UnsafeMutableRawPointer
    let easyCleanup: UnsafeMutableRawPointer
    let easyReset: UnsafeMutableRawPointer
    let easyPerform: UnsafeMutableRawPointer
    let easySetopt: UnsafeMutableRawPointer
    let easyGetinfo: UnsafeMutableRawPointer
    let easyStrerror: UnsafeMutableRawPointer
    let slistAppend: UnsafeMutableRawPointer
    let slistFreeAll: UnsafeMutableRawPointer

    /// The soname of libcurl 4 (Debian's libcurl4 or libcurl3-gnutls provide it).
    static let library = "libcurl.so.4"

    /// Loaded and initialised once per process; nil when the library is missing or too old.
    static let shared: Libcurl? = load()

    private static func load() -> Libcurl? {
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else { return nil }
        let names = ["curl_global_init", "curl_easy_init", "curl_easy_cleanup", "curl_easy_reset", "curl_easy_perform",
                     "curl_easy_setopt", "curl_easy_getinfo", "curl_easy_strerror", "curl_slist_append", "curl_slist_free_all"]
        let symbols = names.compactMap { dlsym(handle, $0) }
        guard symbols.count == names.count,
              rpfs_curl_global_init(symbols[0], Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK else { return nil }
        return Libcurl(easyInit: symbols[1], easyCleanup: symbols[2], easyReset: symbols[3], easyPerform: symbols[4],
                       easySetopt: symbols[5], easyGetinfo: symbols[6], easyStrerror: symbols[7],
                       slistAppend: symbols[8], slistFreeAll: symbols[9])
    }
}
