#ifndef RPFS_CLINUX_SHIM_H
#define RPFS_CLINUX_SHIM_H

// Linux calls that Glibc's Swift module leaves out. They sit behind _GNU_SOURCE, which a
// module cannot define without clashing with the Glibc module's view of the same headers,
// so they are declared here with Linux's values.
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <syslog.h>
#include <sys/xattr.h>
#include <unistd.h>

extern int syncfs(int fd);
extern int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);

// renameat2 flag: fail with EEXIST instead of replacing the target.
static inline int rpfs_rename_noreplace(int dirfd, const char *from, const char *to) {
    return renameat2(dirfd, from, dirfd, to, 1);
}

// lseek whence SEEK_DATA (3 on Linux): the next offset at or after `offset` that holds data.
static inline off_t rpfs_seek_data(int fd, off_t offset) { return lseek(fd, offset, 3); }
static inline int rpfs_syncfs(int fd) { return syncfs(fd); }

// O_DIRECT (an open and fcntl flag) is _GNU_SOURCE only; glibc's per-architecture
// __O_DIRECT is not (arm64's value differs).
#include <fcntl.h>
static inline int rpfs_open_direct_flag(void) { return __O_DIRECT; }
// O_TMPFILE (a file with no name, in a directory) is _GNU_SOURCE only too.
static inline int rpfs_open_tmpfile_flag(void) { return __O_TMPFILE; }

// Closes every descriptor from `first` up but `keep` (close_range, glibc 2.34, Linux 5.9).
extern int close_range(unsigned int first, unsigned int last, int flags);
static inline void rpfs_close_descriptors_from(int first, int keep) {
    if (keep > first) close_range((unsigned)first, (unsigned)keep - 1, 0);
    close_range((unsigned)(keep >= first ? keep + 1 : first), ~0U, 0);
}

// prctl is variadic. Non-dumpable: no core file, and /proc/PID/{mem,environ,fd} and ptrace
// closed to other processes of the same user (keys and plaintext live in this memory).
static inline int rpfs_make_nondumpable(void) {
    struct rlimit none = { 0, 0 };
    return setrlimit(RLIMIT_CORE, &none) | prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

// Child processes (ChildProcess: key commands, fusermount3) must not inherit rpfs's
// descriptors (images, PKCS#11 module files): glibc 2.34+ can close them all during
// posix_spawn, but declares the call only under _GNU_SOURCE.
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

// syslog is variadic, which Swift cannot call; this logs one preformatted line.
static inline void rpfs_syslog_error(const char *line) { syslog(LOG_ERR, "%s", line); }

#endif
