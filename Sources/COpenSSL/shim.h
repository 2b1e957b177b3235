#ifndef RPFS_COPENSSL_SHIM_H
#define RPFS_COPENSSL_SHIM_H

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/rsa.h>

// Macros do not import into Swift; these wrap the ones rpfs needs.

static inline EVP_PKEY *rpfs_rsa_generate(unsigned int bits) {
    return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
}

static inline long rpfs_bio_get_mem_data(BIO *bio, char **data) {
    return BIO_get_mem_data(bio, data);
}

// Takes a copy of the label: set0 hands ownership of an OPENSSL_malloc'd buffer to the context.
static inline int rpfs_set_oaep_label(EVP_PKEY_CTX *ctx, const unsigned char *label, size_t length) {
    void *copy = OPENSSL_memdup(label, length);
    if (copy == NULL) return 0;
    if (EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, copy, (int)length) != 1) {
        OPENSSL_free(copy);
        return 0;
    }
    return 1;
}

#endif
