#ifndef RPFS_CEXT2FS_SHIM_H
#define RPFS_CEXT2FS_SHIM_H

#include <ext2fs/ext2fs.h>
#include <et/com_err.h>

#endif
