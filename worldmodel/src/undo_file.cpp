// Crash-safe commits of a growing HDF5 file; the argument is in undo_file.hpp.
#include "undo_file.hpp"

#include "crash_points.hpp"
#include "parallax/base/atomic_file.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

namespace parallax::worldmodel::detail {

namespace fs = std::filesystem;

// ---- crash points ------------------------------------------------------------------------------

namespace {
CrashHook g_crash_hook = nullptr;
}  // namespace

void set_crash_hook(CrashHook hook) {
  g_crash_hook = hook;
}
void crash_point(const char* point, int index) {
  if (g_crash_hook) g_crash_hook(point, index);
}

// ---- the journal file --------------------------------------------------------------------------
// Little-endian: magic "PXUNDO01", int64 commit, uint64 committed size, uint64 count, then per
// entry uint64 offset, uint64 size, the bytes; last, uint64 FNV-1a of everything before it.

namespace {

constexpr char kMagic[8] = {'P', 'X', 'U', 'N', 'D', 'O', '0', '1'};

[[noreturn]] void fail(const fs::path& file, const std::string& what) {
  throw UndoError(file.string() + ": " + what);
}
std::string os_error() {
  return std::strerror(errno);
}

std::uint64_t fnv1a(const std::string& s) {
  std::uint64_t h = 14695981039346656037ull;  // FNV-1a 64: offset basis, then the prime
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

void put_u64(std::string& out, std::uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

class Cursor {
 public:
  Cursor(const fs::path& file, const std::string& s) : file_(file), s_(s) {}
  std::uint64_t u64(const char* field) {
    if (s_.size() - pos_ < 8) fail(file_, std::string(field) + ": truncated journal");
    std::uint64_t v = 0;
    for (int i = 0; i < 8; ++i)
      v |= std::uint64_t(static_cast<unsigned char>(s_[pos_ + i])) << (8 * i);
    pos_ += 8;
    return v;
  }
  std::vector<unsigned char> bytes(std::uint64_t n) {
    if (s_.size() - pos_ < n) fail(file_, "entry bytes: truncated journal");
    std::vector<unsigned char> b(s_.begin() + static_cast<std::ptrdiff_t>(pos_),
                                 s_.begin() + static_cast<std::ptrdiff_t>(pos_ + n));
    pos_ += n;
    return b;
  }
  std::size_t pos() const { return pos_; }
  void skip(std::size_t n) { pos_ += n; }

 private:
  const fs::path& file_;
  const std::string& s_;
  std::size_t pos_ = 0;
};

// pread / pwrite of the whole range, retried on EINTR and short transfers.
bool pread_all(int fd, void* buf, std::size_t n, std::uint64_t off) {
  auto* p = static_cast<unsigned char*>(buf);
  while (n > 0) {
    const ssize_t r = ::pread(fd, p, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r, n -= static_cast<std::size_t>(r), off += static_cast<std::uint64_t>(r);
  }
  return true;
}
bool pwrite_all(int fd, const void* buf, std::size_t n, std::uint64_t off) {
  const auto* p = static_cast<const unsigned char*>(buf);
  while (n > 0) {
    const ssize_t r = ::pwrite(fd, p, n, static_cast<off_t>(off));
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return false;
    p += r, n -= static_cast<std::size_t>(r), off += static_cast<std::uint64_t>(r);
  }
  return true;
}

void fsync_dir(const fs::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

fs::path journal_path(const fs::path& main) {
  return fs::path(main.string() + ".undo");
}

std::optional<UndoJournal> read_journal(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    if (!fs::exists(file)) return std::nullopt;
    fail(file, "cannot read (" + os_error() + ")");
  }
  const std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (s.size() < 8 + 3 * 8 + 8 || std::memcmp(s.data(), kMagic, 8) != 0)
    fail(file, "not an undo journal of Parallax's episode store (bad magic or size)");
  Cursor end(file, s);
  end.skip(s.size() - 8);
  if (end.u64("checksum") != fnv1a(s.substr(0, s.size() - 8)))
    fail(file, "checksum: does not match the journal's bytes (damaged)");
  const std::string body = s.substr(0, s.size() - 8);
  Cursor c(file, body);
  c.skip(8);
  UndoJournal j;
  j.commit = static_cast<std::int64_t>(c.u64("commit"));
  j.committed_size = c.u64("committed_size");
  const std::uint64_t n = c.u64("count");
  if (n > body.size() / 16) fail(file, "count: " + std::to_string(n) + " entries cannot fit");
  for (std::uint64_t i = 0; i < n; ++i) {
    const std::uint64_t off = c.u64("offset");
    const std::uint64_t len = c.u64("size");
    if (off > j.committed_size || len > j.committed_size - off)
      fail(file, "entry " + std::to_string(i) + ": bytes [" + std::to_string(off) + ", +" +
                     std::to_string(len) + ") past the committed size " +
                     std::to_string(j.committed_size));
    j.old_bytes.emplace_back(off, c.bytes(len));
  }
  if (c.pos() != body.size()) fail(file, "trailing bytes after the last entry (damaged)");
  return j;
}

void roll_back(const fs::path& main, const UndoJournal& j) {
  const int fd = ::open(main.c_str(), O_RDWR);
  if (fd < 0) fail(main, "cannot open to roll back an interrupted commit (" + os_error() + ")");
  bool ok = true;
  for (const auto& [off, bytes] : j.old_bytes)
    ok = ok && pwrite_all(fd, bytes.data(), bytes.size(), off);
  ok = ok && ::ftruncate(fd, static_cast<off_t>(j.committed_size)) == 0 && ::fsync(fd) == 0;
  const std::string err = ok ? "" : os_error();
  ::close(fd);
  if (!ok) fail(main, "cannot roll back an interrupted commit (" + err + ")");
  const fs::path jp = journal_path(main);
  if (::unlink(jp.c_str()) != 0 && errno != ENOENT) fail(jp, "cannot remove (" + os_error() + ")");
  fsync_dir(main.parent_path());
}

// ---- shared state ------------------------------------------------------------------------------

struct UndoFile::State {
  fs::path main;
  bool writer = false;
  int fd = -1;                       // of the open file (set by the driver's open)
  std::uint64_t committed_size = 0;  // writer: writes below it are held
  // Writer: held writes, in order (a later one wins where they overlap). Reader: the journal's
  // old bytes (never overlapping with different content: all were read from one file state).
  std::vector<std::pair<std::uint64_t, std::vector<unsigned char>>> extents;
};

namespace {

using State = UndoFile::State;

// Copies the part of each extent that falls in [addr, addr + size) over `buf`.
void overlay(const State& s, std::uint64_t addr, std::size_t size, unsigned char* buf) {
  for (const auto& [off, bytes] : s.extents) {
    const std::uint64_t lo = std::max(off, addr);
    const std::uint64_t hi = std::min<std::uint64_t>(off + bytes.size(), addr + size);
    if (lo < hi) std::memcpy(buf + (lo - addr), bytes.data() + (lo - off), hi - lo);
  }
}

// ---- the HDF5 file driver ----------------------------------------------------------------------

struct DriverInfo {
  std::shared_ptr<State> state;
};

// The driver's file: the public H5FD_t first (libhdf5 hands back a pointer to it).
struct DriverFile {
  H5FD_t pub;
  int fd;
  dev_t device;
  ino_t inode;
  haddr_t eoa;
  haddr_t eof;
  std::shared_ptr<State>* state;
};

DriverFile* as_file(H5FD_t* f) {
  return reinterpret_cast<DriverFile*>(f);
}
const DriverFile* as_file(const H5FD_t* f) {
  return reinterpret_cast<const DriverFile*>(f);
}

constexpr haddr_t kMaxAddr = (haddr_t(1) << 62) - 1;

void* info_copy(const void* info) {
  return new DriverInfo(*static_cast<const DriverInfo*>(info));
}
herr_t info_free(void* info) {
  delete static_cast<DriverInfo*>(info);
  return 0;
}
void* info_get(H5FD_t* f) {
  return new DriverInfo{*as_file(f)->state};
}

H5FD_t* driver_open(const char* name, unsigned flags, hid_t fapl, haddr_t maxaddr) {
  if (!name || !*name || maxaddr == 0 || maxaddr > kMaxAddr) return nullptr;
  const auto* info = static_cast<const DriverInfo*>(H5Pget_driver_info(fapl));
  if (!info || !info->state) return nullptr;
  int o = (flags & H5F_ACC_RDWR) ? O_RDWR : O_RDONLY;
  if (flags & H5F_ACC_TRUNC) o |= O_TRUNC;
  if (flags & H5F_ACC_CREAT) o |= O_CREAT;
  if (flags & H5F_ACC_EXCL) o |= O_EXCL;
  const int fd = ::open(name, o | O_CLOEXEC, 0666);
  if (fd < 0) return nullptr;
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return nullptr;
  }
  auto* f = new DriverFile{};
  f->fd = fd;
  f->device = st.st_dev;
  f->inode = st.st_ino;
  f->eoa = 0;
  f->eof = static_cast<haddr_t>(st.st_size);
  f->state = new std::shared_ptr<State>(info->state);
  (*f->state)->fd = fd;
  return &f->pub;
}

herr_t driver_close(H5FD_t* pub) {
  DriverFile* f = as_file(pub);
  State& s = **f->state;
  if (s.fd == f->fd) {
    s.fd = -1;
    // A writer's writes held since its last commit die with the file: it stays as committed.
    if (s.writer) s.extents.clear();
  }
  const int rc = ::close(f->fd);
  delete f->state;
  delete f;
  return rc == 0 ? 0 : -1;
}

int driver_cmp(const H5FD_t* a, const H5FD_t* b) {
  const DriverFile* x = as_file(a);
  const DriverFile* y = as_file(b);
  if (x->device != y->device) return x->device < y->device ? -1 : 1;
  if (x->inode != y->inode) return x->inode < y->inode ? -1 : 1;
  return 0;
}

herr_t driver_query(const H5FD_t*, unsigned long* flags) {
  if (flags)
    *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
             H5FD_FEAT_AGGREGATE_SMALLDATA | H5FD_FEAT_POSIX_COMPAT_HANDLE;
  return 0;
}

haddr_t driver_get_eoa(const H5FD_t* f, H5FD_mem_t) {
  return as_file(f)->eoa;
}
herr_t driver_set_eoa(H5FD_t* f, H5FD_mem_t, haddr_t addr) {
  if (addr > kMaxAddr) return -1;
  as_file(f)->eoa = addr;
  return 0;
}
haddr_t driver_get_eof(const H5FD_t* f, H5FD_mem_t) {
  return as_file(f)->eof;
}
herr_t driver_get_handle(H5FD_t* f, hid_t, void** handle) {
  if (!handle) return -1;
  *handle = &as_file(f)->fd;
  return 0;
}

bool range_ok(haddr_t addr, size_t size) {
  return addr <= kMaxAddr && size <= kMaxAddr && addr + size <= kMaxAddr;
}

herr_t driver_read(H5FD_t* pub, H5FD_mem_t, hid_t, haddr_t addr, size_t size, void* buf) {
  DriverFile* f = as_file(pub);
  if (!range_ok(addr, size) || !buf) return -1;
  auto* out = static_cast<unsigned char*>(buf);
  // Bytes past the end of the file read as zeros (as libhdf5's sec2 driver does).
  const std::size_t on_disk = addr >= f->eof ? 0 : std::min<std::uint64_t>(size, f->eof - addr);
  if (on_disk > 0 && !pread_all(f->fd, out, on_disk, addr)) return -1;
  if (on_disk < size) std::memset(out + on_disk, 0, size - on_disk);
  overlay(**f->state, addr, size, out);
  return 0;
}

herr_t driver_write(H5FD_t* pub, H5FD_mem_t, hid_t, haddr_t addr, size_t size, const void* buf) {
  DriverFile* f = as_file(pub);
  if (!range_ok(addr, size) || !buf) return -1;
  State& s = **f->state;
  if (!s.writer) return -1;  // readers never write
  const auto* in = static_cast<const unsigned char*>(buf);
  // The part below the committed size is held until commit(); the rest goes to the file now.
  const std::size_t held =
      addr >= s.committed_size ? 0 : std::min<std::uint64_t>(size, s.committed_size - addr);
  if (held > 0) {
    std::vector<unsigned char> bytes(in, in + held);
    auto same = std::find_if(s.extents.begin(), s.extents.end(), [&](const auto& e) {
      return e.first == addr && e.second.size() == held;
    });
    if (same != s.extents.end() && same + 1 == s.extents.end())
      same->second = std::move(bytes);
    else
      s.extents.emplace_back(addr, std::move(bytes));
  }
  if (held < size) {
    if (!pwrite_all(f->fd, in + held, size - held, addr + held)) return -1;
    f->eof = std::max<haddr_t>(f->eof, addr + size);
  }
  return 0;
}

herr_t driver_flush(H5FD_t*, hid_t, hbool_t) {
  return 0;  // durability is commit()'s job
}

herr_t driver_truncate(H5FD_t* pub, hid_t, hbool_t) {
  DriverFile* f = as_file(pub);
  if (f->eoa == f->eof) return 0;
  const State& s = **f->state;
  if (!s.writer) return 0;
  // Never below the committed size: those bytes belong to the last commit.
  const haddr_t size = std::max<haddr_t>(f->eoa, s.committed_size);
  if (size == f->eof) return 0;
  if (::ftruncate(f->fd, static_cast<off_t>(size)) != 0) return -1;
  f->eof = size;
  return 0;
}

herr_t driver_lock(H5FD_t* f, hbool_t rw) {
  if (::flock(as_file(f)->fd, (rw ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0) return 0;
  return errno == ENOSYS ? 0 : -1;  // file systems without locks: as sec2 with locks ignored
}
herr_t driver_unlock(H5FD_t* f) {
  if (::flock(as_file(f)->fd, LOCK_UN) == 0) return 0;
  return errno == ENOSYS ? 0 : -1;
}

hid_t driver_id() {
  static hid_t id = [] {
    static H5FD_class_t cls{};
    cls.name = "parallax_undo";
    cls.maxaddr = kMaxAddr;
    cls.fc_degree = H5F_CLOSE_WEAK;
    cls.fapl_size = sizeof(DriverInfo);
    cls.fapl_get = info_get;
    cls.fapl_copy = info_copy;
    cls.fapl_free = info_free;
    cls.open = driver_open;
    cls.close = driver_close;
    cls.cmp = driver_cmp;
    cls.query = driver_query;
    cls.get_eoa = driver_get_eoa;
    cls.set_eoa = driver_set_eoa;
    cls.get_eof = driver_get_eof;
    cls.get_handle = driver_get_handle;
    cls.read = driver_read;
    cls.write = driver_write;
    cls.flush = driver_flush;
    cls.truncate = driver_truncate;
    cls.lock = driver_lock;
    cls.unlock = driver_unlock;
    const H5FD_mem_t map[H5FD_MEM_NTYPES] = H5FD_FLMAP_DICHOTOMY;
    std::copy(std::begin(map), std::end(map), std::begin(cls.fl_map));
    return H5FDregister(&cls);
  }();
  return id;
}

}  // namespace

// ---- UndoFile ----------------------------------------------------------------------------------

UndoFile UndoFile::writer(fs::path main) {
  auto s = std::make_shared<State>();
  s->main = std::move(main);
  s->writer = true;
  return UndoFile(std::move(s));
}

UndoFile UndoFile::reader(fs::path main, UndoJournal overlay) {
  auto s = std::make_shared<State>();
  s->main = std::move(main);
  s->extents = std::move(overlay.old_bytes);
  return UndoFile(std::move(s));
}

hid_t UndoFile::make_fapl(hid_t base) const {
  const hid_t id = driver_id();
  if (id < 0) fail(s_->main, "libhdf5 refused Parallax's file driver");
  const hid_t fapl = H5Pcopy(base);
  const DriverInfo info{s_};
  if (fapl < 0 || H5Pset_driver(fapl, id, &info) < 0) {
    if (fapl >= 0) H5Pclose(fapl);
    fail(s_->main, "libhdf5 cannot use Parallax's file driver");
  }
  return fapl;
}

void UndoFile::set_committed_size(std::uint64_t size) {
  s_->committed_size = size;
}

void UndoFile::commit(std::int64_t commit) {
  State& s = *s_;
  if (s.fd < 0) fail(s.main, "commit: the file is not open");
  if (s.extents.empty()) {  // nothing committed is overwritten: nothing to undo
    if (::fsync(s.fd) != 0) fail(s.main, "commit: fsync failed (" + os_error() + ")");
    crash_point("applied");
    return;
  }
  // (1) The bytes the held writes will overwrite, as they are on disk now.
  std::string out(kMagic, 8);
  put_u64(out, static_cast<std::uint64_t>(commit));
  put_u64(out, s.committed_size);
  put_u64(out, s.extents.size());
  for (const auto& [off, bytes] : s.extents) {
    std::vector<unsigned char> old(bytes.size());
    if (!pread_all(s.fd, old.data(), old.size(), off))
      fail(s.main, "commit: cannot read bytes [" + std::to_string(off) + ", +" +
                       std::to_string(old.size()) + ") (" + os_error() + ")");
    put_u64(out, off);
    put_u64(out, old.size());
    out.append(reinterpret_cast<const char*>(old.data()), old.size());
  }
  put_u64(out, fnv1a(out));
  try {
    base::write_file_atomic(journal_path(s.main), out);
  } catch (const base::AtomicWriteError& e) {
    throw UndoError(e.what());
  }
  crash_point("journal");
  // (2) Apply, then make it durable before the caller records the commit.
  for (std::size_t i = 0; i < s.extents.size(); ++i) {
    crash_point("apply", static_cast<int>(i));
    const auto& [off, bytes] = s.extents[i];
    if (!pwrite_all(s.fd, bytes.data(), bytes.size(), off))
      fail(s.main, "commit: cannot write (" + os_error() + ")");
  }
  if (::fsync(s.fd) != 0) fail(s.main, "commit: fsync failed (" + os_error() + ")");
  s.extents.clear();
  crash_point("applied");
}

void UndoFile::finish() {
  State& s = *s_;
  // A journal that stays (unlink failed, or a power cut undid it) is stale: it protects an older
  // commit count than the commit record's, and readers and writers ignore and remove it.
  const fs::path jp = journal_path(s.main);
  ::unlink(jp.c_str());
  struct stat st;
  if (s.fd >= 0 && ::fstat(s.fd, &st) == 0)
    s.committed_size = static_cast<std::uint64_t>(st.st_size);
}

}  // namespace parallax::worldmodel::detail
