// posix_spawn's close-from file action, which glibc declares only under _GNU_SOURCE (so Swift's Glibc
// module does not see it).
#ifndef IBA_CSPAWN_H
#define IBA_CSPAWN_H
#include <spawn.h>

/// posix_spawn_file_actions_addclosefrom_np: the child closes every descriptor >= `from` (after the
/// file actions added before this one). Returns 0 or an error number.
int iba_spawn_add_close_from(posix_spawn_file_actions_t *actions, int from);
#endif
