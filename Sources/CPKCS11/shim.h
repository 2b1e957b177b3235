#ifndef RPFS_CPKCS11_SHIM_H
#define RPFS_CPKCS11_SHIM_H

// The PKCS#11 (Cryptoki) API as p11-kit ships it; modules are loaded with dlopen.
#include <dlfcn.h>
#include <p11-kit/pkcs11.h>

#endif
