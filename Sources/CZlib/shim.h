#ifndef RPFS_CZLIB_SHIM_H
#define RPFS_CZLIB_SHIM_H

#include <zlib.h>

#endif
