// The FUSE ceiling for Benchmarks/mount-vs-others: a do-nothing filesystem holding one
// read-only 1 GiB file, big.bin, served from memory. Same libfuse3 low-level API, mount
// options, 1 MiB requests, keep_cache, timeouts and multithreaded loop as rpfs, so the gap
// between the two is what rpfs adds (decryption, chunk lookup, ext4 extent maps).
//   gcc -O2 -o nullfs nullfs.c $(pkg-config --cflags --libs fuse3); ./nullfs MOUNTPOINT
// Stays in the foreground until unmounted.
#define FUSE_USE_VERSION 312
#include <fuse3/fuse_lowlevel.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FILE_SIZE (1ULL << 30)
#define FILE_INO 2
// Any request (<= 1 MiB) at offset o is the contiguous bytes pattern[o % PERIOD ...].
#define PERIOD (1 << 20)
static char *pattern;

static void fill_stat(fuse_ino_t ino, struct stat *st) {
    memset(st, 0, sizeof *st);
    st->st_ino = ino;
    if (ino == FUSE_ROOT_ID) {
        st->st_mode = S_IFDIR | 0755;
        st->st_nlink = 2;
    } else {
        st->st_mode = S_IFREG | 0444;
        st->st_nlink = 1;
        st->st_size = FILE_SIZE;
        st->st_blocks = FILE_SIZE / 512;
    }
}

static void op_init(void *userdata, struct fuse_conn_info *conn) {
    (void)userdata;
    conn->max_write = 1 << 20;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name) {
    if (parent != FUSE_ROOT_ID || strcmp(name, "big.bin") != 0) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    struct fuse_entry_param entry = {.ino = FILE_INO, .attr_timeout = 86400, .entry_timeout = 86400};
    fill_stat(FILE_INO, &entry.attr);
    fuse_reply_entry(req, &entry);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    (void)fi;
    struct stat st;
    if (ino != FUSE_ROOT_ID && ino != FILE_INO) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    fill_stat(ino, &st);
    fuse_reply_attr(req, &st, 86400);
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi) {
    if (ino != FILE_INO) {
        fuse_reply_err(req, EISDIR);
        return;
    }
    fi->keep_cache = 1;
    fuse_reply_open(req, fi);
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
    (void)ino, (void)fi;
    if ((unsigned long long)off >= FILE_SIZE) {
        fuse_reply_buf(req, NULL, 0);
        return;
    }
    if (size > FILE_SIZE - off) size = FILE_SIZE - off;
    if (size > PERIOD) size = PERIOD;
    fuse_reply_buf(req, pattern + off % PERIOD, size);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, struct fuse_file_info *fi) {
    (void)fi;
    char buf[512];
    size_t used = 0;
    const char *names[] = {".", "..", "big.bin"};
    fuse_ino_t inos[] = {ino, ino, FILE_INO};
    for (off_t i = off; i < 3; i++) {
        struct stat st;
        fill_stat(inos[i], &st);
        size_t need = fuse_add_direntry(req, buf + used, sizeof buf - used, names[i], &st, i + 1);
        if (used + need > size || used + need > sizeof buf) break;
        used += need;
    }
    fuse_reply_buf(req, buf, used);
}

int main(int argc, char *argv[]) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s MOUNTPOINT\n", argv[0]);
        return 2;
    }
    pattern = malloc(2 * PERIOD);
    for (size_t i = 0; i < 2 * PERIOD; i++) pattern[i] = (char)(i * 2654435761u >> 24);
    struct fuse_lowlevel_ops ops = {
        .init = op_init, .lookup = op_lookup, .getattr = op_getattr,
        .open = op_open, .read = op_read, .readdir = op_readdir,
    };
    char *fuse_argv[] = {argv[0], "-o", "ro,fsname=nullfs,subtype=nullfs,auto_unmount", NULL};
    struct fuse_args args = FUSE_ARGS_INIT(3, fuse_argv);
    struct fuse_session *se = fuse_session_new(&args, &ops, sizeof ops, NULL);
    if (!se || fuse_set_signal_handlers(se) != 0 || fuse_session_mount(se, argv[1]) != 0) return 1;
    struct fuse_loop_config *config = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(config, 16);
    int status = fuse_session_loop_mt(se, config);
    fuse_loop_cfg_destroy(config);
    fuse_session_unmount(se);
    fuse_remove_signal_handlers(se);
    fuse_session_destroy(se);
    return status == 0 || status == SIGTERM || status == SIGINT ? 0 : 1;
}
