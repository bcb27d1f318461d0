// Test seam of the episode store's commit: the named steps where a kill must leave a readable,
// resumable dataset. Production code calls crash_point() at each; a test installs a hook (in a
// forked child) that kills the process at the step it wants to examine. Without a hook the calls
// cost one branch. Reference: docs/store.md, "Crash safety".
#pragma once

namespace parallax::worldmodel::detail {

// Steps, in commit order: "journal" (the undo journal is on disk, nothing applied), "apply"
// (before the index-th held write goes to the file), "applied" (all applied and fsync'ed,
// metadata.json not yet rewritten), "counted" (metadata.json counts the episode, the journal is
// not yet removed).
using CrashHook = void (*)(const char* point, int index);

void set_crash_hook(CrashHook hook);
void crash_point(const char* point, int index = 0);

}  // namespace parallax::worldmodel::detail
