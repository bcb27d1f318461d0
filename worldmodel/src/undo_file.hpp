// Crash-safe commits of a growing HDF5 file: an HDF5 file driver (POSIX I/O, like libhdf5's
// "sec2") plus an undo journal.
//
// libhdf5 rewrites some of its metadata in place when a file grows (the superblock, the root
// group's B-tree and symbol-table nodes), so a process killed in the middle of H5Fflush can leave
// a file whose committed groups are unreachable. With this driver, a writer's writes into the
// committed part of the file (below the size it had at the last commit) are held in memory;
// writes past it go to the file at once (new space nothing committed refers to). commit() then
// (1) saves the bytes the held writes will overwrite in an undo journal (written whole, fsync'ed
// and renamed into place), (2) applies the held writes and fsyncs the file; after the caller has
// recorded the commit (metadata.json), finish() removes the journal.
//
// A journal on disk therefore means: a commit was being applied when the writer died. Its header
// names the commit count it protects; where the commit record still has that count, the commit
// did not happen and the journal's old bytes are the committed file: a reader overlays them on
// what it reads, a resuming writer writes them back and truncates the file to its committed size
// (roll_back). Where the record counts more, the commit landed and the journal is stale.
//
// Reference: docs/store.md, "Crash safety"; the driver interface is libhdf5 1.10's H5FD_class_t.
#pragma once

#include <hdf5.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <utility>
#include <vector>

namespace parallax::worldmodel::detail {

// A bad or unusable journal, or an I/O failure while committing: one line naming the file.
class UndoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct UndoJournal {
  std::int64_t commit = 0;           // the commit count it protects (before the interrupted one)
  std::uint64_t committed_size = 0;  // the file's size at that commit
  std::vector<std::pair<std::uint64_t, std::vector<unsigned char>>> old_bytes;  // offset, bytes
};

// The journal of `main`: "<main>.undo".
std::filesystem::path journal_path(const std::filesystem::path& main);

// Reads a journal; nullopt when there is none. Throws UndoError for a damaged one.
std::optional<UndoJournal> read_journal(const std::filesystem::path& file);

// Writes the journal's old bytes back into `main`, truncates it to the committed size, fsyncs it,
// then removes the journal. Idempotent: a kill during it leaves the journal to redo it.
void roll_back(const std::filesystem::path& main, const UndoJournal& j);

class UndoFile {
 public:
  // A writer of `main` (held writes, commit) or a reader that sees `overlay`'s old bytes.
  static UndoFile writer(std::filesystem::path main);
  static UndoFile reader(std::filesystem::path main, UndoJournal overlay);

  // A file-access property list that opens the file through this object (a copy of `base`).
  hid_t make_fapl(hid_t base) const;

  // Writer: the size below which writes are held from now on (the file's size at a commit).
  void set_committed_size(std::uint64_t size);
  // Writer, after H5Fflush: journal, apply, fsync (steps 1-2 above). `commit` is the count the
  // journal protects (the commit record's count before this commit).
  void commit(std::int64_t commit);
  // Writer, after the commit is recorded: removes the journal (a journal left behind is stale and
  // harmless); the file's size becomes the committed size.
  void finish();

  struct State;

 private:
  explicit UndoFile(std::shared_ptr<State> s) : s_(std::move(s)) {}
  std::shared_ptr<State> s_;
};

}  // namespace parallax::worldmodel::detail
