#ifndef RPFS_CFUSE3_SHIM_H
#define RPFS_CFUSE3_SHIM_H

// A module map cannot define macros: the API version (maj * 100 + min) is fixed here.
#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>
#include <malloc.h>

// Macro entry points, as functions Swift can call.
static inline int rpfs_fuse_session_loop_mt(struct fuse_session *se, struct fuse_loop_config *config) {
    return fuse_session_loop_mt(se, config);
}

// fuse_file_info's flags are bitfields; set them here rather than rely on how Swift imports them.
static inline void rpfs_fuse_keep_cache(struct fuse_file_info *fi) { fi->keep_cache = 1; }

// Stores `size` bytes of an inode's data at `offset` in the kernel's page cache
// (FUSE_BUFVEC_INIT is a macro).
static inline int rpfs_fuse_store(struct fuse_session *se, fuse_ino_t ino, off_t offset, void *data, size_t size) {
    struct fuse_bufvec bufv = FUSE_BUFVEC_INIT(size);
    bufv.buf[0].mem = data;
    return fuse_lowlevel_notify_store(se, ino, offset, &bufv, 0);
}

// Glibc's Swift module does not export <malloc.h>. The daemon keeps freed blocks up to 32 MiB
// (decrypted chunks, reply buffers) for reuse instead of unmapping and faulting them in again.
static inline int rpfs_malloc_keep_freed(int mmap_threshold, int trim_threshold, int arenas) {
    return mallopt(M_MMAP_THRESHOLD, mmap_threshold) && mallopt(M_TRIM_THRESHOLD, trim_threshold)
        && mallopt(M_ARENA_MAX, arenas);
}

#endif
