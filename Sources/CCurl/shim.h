#ifndef RPFS_CCURL_SHIM_H
#define RPFS_CCURL_SHIM_H

// libcurl's easy interface for Swift. libcurl is loaded with dlopen when a remote store is
// first used, not linked: linked, it and the two dozen libraries it needs were loaded at
// every start of every command. Each call goes through a function pointer from dlsym, passed
// in as `void *`; curl_easy_setopt and curl_easy_getinfo are variadic, which Swift cannot
// call, so each argument type gets a typed wrapper that makes the variadic call in C.
#include <curl/curl.h>
#include <dlfcn.h>

typedef CURLcode (*rpfs_curl_setopt_t)(CURL *, CURLoption, ...);
typedef CURLcode (*rpfs_curl_getinfo_t)(CURL *, CURLINFO, ...);
typedef size_t (*rpfs_curl_data_callback)(char *, size_t, size_t, void *);

static inline CURLcode rpfs_curl_set_long(void *setopt, CURL *handle, CURLoption option, long value) {
    return ((rpfs_curl_setopt_t)setopt)(handle, option, value);
}
static inline CURLcode rpfs_curl_set_string(void *setopt, CURL *handle, CURLoption option, const char *value) {
    return ((rpfs_curl_setopt_t)setopt)(handle, option, value);
}
static inline CURLcode rpfs_curl_set_pointer(void *setopt, CURL *handle, CURLoption option, void *value) {
    return ((rpfs_curl_setopt_t)setopt)(handle, option, value);
}
static inline CURLcode rpfs_curl_set_offset(void *setopt, CURL *handle, CURLoption option, curl_off_t value) {
    return ((rpfs_curl_setopt_t)setopt)(handle, option, value);
}
static inline CURLcode rpfs_curl_set_callback(void *setopt, CURL *handle, CURLoption option, rpfs_curl_data_callback callback) {
    return ((rpfs_curl_setopt_t)setopt)(handle, option, callback);
}
// A request body of `size` bytes at `data`; an empty body may have no address, and libcurl
// then needs one that is not NULL (NULL would mean "no body at all").
static inline CURLcode rpfs_curl_set_body(void *setopt, CURL *handle, const void *data, curl_off_t size) {
    CURLcode code = ((rpfs_curl_setopt_t)setopt)(handle, CURLOPT_POSTFIELDSIZE_LARGE, size);
    if (code != CURLE_OK) return code;
    return ((rpfs_curl_setopt_t)setopt)(handle, CURLOPT_POSTFIELDS, data ? data : "");
}
static inline long rpfs_curl_response_code(void *getinfo, CURL *handle) {
    long code = 0;
    ((rpfs_curl_getinfo_t)getinfo)(handle, CURLINFO_RESPONSE_CODE, &code);
    return code;
}
static inline CURLcode rpfs_curl_global_init(void *function, long flags) {
    return ((CURLcode (*)(long))function)(flags);
}
static inline CURL *rpfs_curl_easy_init(void *function) {
    return ((CURL *(*)(void))function)();
}
static inline void rpfs_curl_easy_cleanup(void *function, CURL *handle) {
    ((void (*)(CURL *))function)(handle);
}
static inline void rpfs_curl_easy_reset(void *function, CURL *handle) {
    ((void (*)(CURL *))function)(handle);
}
static inline CURLcode rpfs_curl_easy_perform(void *function, CURL *handle) {
    return ((CURLcode (*)(CURL *))function)(handle);
}
static inline const char *rpfs_curl_easy_strerror(void *function, CURLcode code) {
    return ((const char *(*)(CURLcode))function)(code);
}
static inline struct curl_slist *rpfs_curl_slist_append(void *function, struct curl_slist *list, const char *text) {
    return ((struct curl_slist *(*)(struct curl_slist *, const char *))function)(list, text);
}
static inline void rpfs_curl_slist_free_all(void *function, struct curl_slist *list) {
    ((void (*)(struct curl_slist *))function)(list);
}

#endif
