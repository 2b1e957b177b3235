#ifndef RPFS_CPKCS11_SHIM_H
#define RPFS_CPKCS11_SHIM_H

// The PKCS#11 (Cryptoki) API as p11-kit ships it (its pkg-config name would also link
// libp11-kit, which rpfs does not call); modules are loaded with dlopen.
#include <dlfcn.h>
#include <p11-kit-1/p11-kit/pkcs11.h>

#endif
