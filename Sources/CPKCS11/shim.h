#ifndef RPFS_CPKCS11_SHIM_H
#define RPFS_CPKCS11_SHIM_H

// The PKCS#11 (Cryptoki) API as p11-kit ships it; modules are loaded with dlopen.
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>

// Key providers also run external key commands (ExternalCommandProvider). The child must not
// inherit rpfs's descriptors (images, PKCS#11 module files): glibc 2.34+ can close them all
// during posix_spawn, but declares the call only under _GNU_SOURCE, which a module cannot
// define without clashing with the Glibc module, so it is declared here.
#include <spawn.h>

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
extern int posix_spawn_file_actions_addclosefrom_np(posix_spawn_file_actions_t *actions, int from);
// Adds "close every descriptor >= from" to `actions`; returns 0, or an errno value.
static inline int rpfs_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int from) {
    return posix_spawn_file_actions_addclosefrom_np(actions, from);
}
#else
// Not available: the caller relies on close-on-exec alone.
static inline int rpfs_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int from) {
    (void)actions;
    (void)from;
    return -1;
}
#endif

#endif
