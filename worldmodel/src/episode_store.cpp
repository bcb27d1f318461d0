// Minari-compatible episode store over the libhdf5 C API. Layout and crash-safety argument in
// docs/store.md; the public contract is in parallax/worldmodel/episode_store.hpp.
#include "parallax/worldmodel/episode_store.hpp"

#include "crash_points.hpp"
#include "parallax/base/atomic_file.hpp"
#include "undo_file.hpp"

#include <fcntl.h>
#include <hdf5.h>
#include <sys/file.h>
#include <unistd.h>

#include <cassert>
#include <cerrno>
#include <climits>
#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <new>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <sstream>
#include <utility>

namespace parallax::worldmodel {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kMinariVersion = "0.5.3";
constexpr const char* kMetadataName = "metadata.json";
constexpr const char* kMainName = "main_data.hdf5";
constexpr int kFormatVersion = 1;  // parallax_format in metadata.json

// libhdf5 (Debian's serial build) is not thread-safe: every call in this file holds this lock.
std::mutex& h5_mutex() {
  static std::mutex m;
  return m;
}

// Silences libhdf5's own error-stack printing once: we turn failures into StoreError lines.
void quiet_hdf5() {
  static std::once_flag once;
  std::call_once(once, [] { H5Eset_auto2(H5E_DEFAULT, nullptr, nullptr); });
}

[[noreturn]] void fail(const fs::path& file, const std::string& where, const std::string& what) {
  throw StoreError(file.string() + ": " + where + ": " + what);
}

// Owns one HDF5 identifier of any kind and closes it with the matching call.
class Hid {
 public:
  Hid() = default;
  explicit Hid(hid_t id) : id_(id) {}
  Hid(Hid&& o) noexcept : id_(std::exchange(o.id_, H5I_INVALID_HID)) {}
  Hid& operator=(Hid&& o) noexcept {
    if (this != &o) {
      reset();
      id_ = std::exchange(o.id_, H5I_INVALID_HID);
    }
    return *this;
  }
  Hid(const Hid&) = delete;
  Hid& operator=(const Hid&) = delete;
  ~Hid() { reset(); }
  hid_t get() const { return id_; }
  bool ok() const { return id_ >= 0; }
  void reset() {
    if (id_ < 0) return;
    switch (H5Iget_type(id_)) {
      case H5I_FILE:
        H5Fclose(id_);
        break;
      case H5I_GROUP:
        H5Gclose(id_);
        break;
      case H5I_DATASET:
        H5Dclose(id_);
        break;
      case H5I_DATASPACE:
        H5Sclose(id_);
        break;
      case H5I_DATATYPE:
        H5Tclose(id_);
        break;
      case H5I_ATTR:
        H5Aclose(id_);
        break;
      case H5I_GENPROP_LST:
        H5Pclose(id_);
        break;
      default:
        H5Idec_ref(id_);
        break;
    }
    id_ = H5I_INVALID_HID;
  }

 private:
  hid_t id_ = H5I_INVALID_HID;
};

std::string join_dims(const std::vector<hsize_t>& d) {
  std::string s = "[";
  for (std::size_t i = 0; i < d.size(); ++i) s += (i ? ", " : "") + std::to_string(d[i]);
  return s + "]";
}

// The enum h5py maps to numpy bool: int8 base, FALSE = 0, TRUE = 1.
Hid make_bool_type() {
  Hid t(H5Tenum_create(H5T_NATIVE_INT8));
  std::int8_t v = 0;
  H5Tenum_insert(t.get(), "FALSE", &v);
  v = 1;
  H5Tenum_insert(t.get(), "TRUE", &v);
  return t;
}

// ---- metadata.json ----------------------------------------------------------------------------

// Minari serialises gymnasium Boxes with full per-element low/high arrays (serialization.py);
// its reader rebuilds them with np.array(low) and rejects a scalar for a shaped Box.
std::string box_json(const std::string& dtype, const std::vector<int>& shape, double low,
                     double high, bool integral) {
  // Nested lists of `shape`, built from the innermost dimension out.
  std::function<json(std::size_t, double)> nest = [&](std::size_t dim, double v) -> json {
    json a = json::array();
    for (int i = 0; i < shape[dim]; ++i) {
      if (dim + 1 == shape.size())
        a.push_back(integral ? json(static_cast<std::int64_t>(v)) : json(v));
      else
        a.push_back(nest(dim + 1, v));
    }
    return a;
  };
  json box = {{"type", "Box"},
              {"dtype", dtype},
              {"shape", shape},
              {"low", nest(0, low)},
              {"high", nest(0, high)}};
  return box.dump();
}

json make_metadata(const DatasetSpec& s, int total_episodes, std::int64_t total_steps) {
  json m;
  m["data_format"] = "hdf5";
  m["dataset_id"] = s.dataset_id;
  m["minari_version"] = kMinariVersion;
  m["total_episodes"] = total_episodes;
  m["total_steps"] = total_steps;
  m["observation_space"] = box_json("uint8", {3, s.height, s.width}, 0, 255, true);
  m["action_space"] = box_json("float32", {s.action_size}, s.action_low, s.action_high, false);
  if (!s.algorithm_name.empty()) m["algorithm_name"] = s.algorithm_name;
  m["parallax_format"] = kFormatVersion;
  m["scene_name"] = s.scene_name;
  m["scene_json"] = s.scene_json;
  m["num_bodies"] = s.num_bodies;
  m["infos"] = {{"poses", "[T+1, K, 7] float32: x, y, z (m), qx, qy, qz, qw per body"},
                {"ids", "[T+1, H, W] uint8: object id per pixel"}};
  return m;
}

// Writes `text` to `file` atomically (parallax/base/atomic_file.hpp: temp file in the same
// folder, fsync, rename, fsync dir).
void write_atomic(const fs::path& file, const std::string& text) {
  try {
    base::write_file_atomic(file, text);
  } catch (const base::AtomicWriteError& e) {
    throw StoreError(e.what());
  }
}

// A value from the file for an error message: JSON-quoted (so a newline or a control character
// in it cannot split the one-line message), at most `max` bytes of it.
std::string json_quoted(const std::string& v, std::size_t max = 60) {
  return json(v.substr(0, max)).dump(-1, ' ', false, json::error_handler_t::replace);
}

// An integer field in [lo, hi]; a value outside (or above what int64 holds) is refused.
std::int64_t int_in(const json& v, const fs::path& file, const std::string& name, std::int64_t lo,
                    std::int64_t hi) {
  const bool fits = v.is_number_integer() &&
                    !(v.is_number_unsigned() && v.get<std::uint64_t>() > std::uint64_t(INT64_MAX));
  const std::int64_t x = fits ? v.get<std::int64_t>() : 0;
  if (!fits || x < lo || x > hi)
    fail(file, name,
         "value " + v.dump().substr(0, 60) + ", expected an integer in [" + std::to_string(lo) +
             ", " + std::to_string(hi) + "]");
  return x;
}

const json& field(const json& m, const fs::path& file, const char* name, json::value_t type) {
  auto it = m.find(name);
  if (it == m.end()) fail(file, name, "missing (expected in a Minari 0.5.3 dataset)");
  bool ok =
      it->type() == type || (type == json::value_t::number_integer && it->is_number_unsigned());
  if (!ok) fail(file, name, "value " + it->dump().substr(0, 60) + " has the wrong JSON type");
  return *it;
}

struct Box {
  std::string dtype;
  std::vector<int> shape;
  double low = 0, high = 0;  // first element (we write uniform bounds)
};

Box parse_box(const json& m, const fs::path& file, const char* name) {
  const std::string text = field(m, file, name, json::value_t::string).get<std::string>();
  json b;
  try {
    b = json::parse(text);
  } catch (const json::exception&) {
    fail(file, name, "not a JSON-encoded space: " + json_quoted(text));
  }
  if (!b.is_object() || b.value("type", "") != "Box")
    fail(file, std::string(name) + ".type", "expected \"Box\"");
  Box box;
  if (!b.contains("dtype") || !b["dtype"].is_string())
    fail(file, std::string(name) + ".dtype", "missing");
  box.dtype = b["dtype"].get<std::string>();
  if (!b.contains("shape") || !b["shape"].is_array())
    fail(file, std::string(name) + ".shape", "missing");
  for (const auto& d : b["shape"])
    box.shape.push_back(static_cast<int>(int_in(d, file, std::string(name) + ".shape", 1, 65536)));
  auto first = [&](const char* key) {
    const json* v = b.contains(key) ? &b[key] : nullptr;
    while (v && v->is_array() && !v->empty()) v = &(*v)[0];
    if (!v || !v->is_number()) fail(file, std::string(name) + "." + key, "missing or not numeric");
    return v->get<double>();
  };
  box.low = first("low");
  box.high = first("high");
  return box;
}

struct Metadata {
  DatasetSpec spec;
  int total_episodes = 0;
  std::int64_t total_steps = 0;
};

Metadata read_metadata(const fs::path& file) {
  std::ifstream in(file);
  if (!in) fail(file, "open", "cannot read (no dataset here?)");
  std::stringstream ss;
  ss << in.rdbuf();
  json m;
  try {
    m = json::parse(ss.str());
  } catch (const json::exception& e) {
    fail(file, "parse", std::string("not valid JSON (") + e.what() + ")");
  }
  if (!m.is_object()) fail(file, "/", "expected a JSON object");
  using T = json::value_t;
  Metadata md;
  const std::string fmt = field(m, file, "data_format", T::string).get<std::string>();
  if (fmt != "hdf5") fail(file, "data_format", "value " + json_quoted(fmt) + ", expected \"hdf5\"");
  field(m, file, "minari_version", T::string);
  md.spec.dataset_id = field(m, file, "dataset_id", T::string).get<std::string>();
  md.total_episodes = static_cast<int>(int_in(field(m, file, "total_episodes", T::number_integer),
                                              file, "total_episodes", 0, INT_MAX));
  md.total_steps =
      int_in(field(m, file, "total_steps", T::number_integer), file, "total_steps", 0, INT64_MAX);
  Box obs = parse_box(m, file, "observation_space");
  if (obs.dtype != "uint8" || obs.shape.size() != 3 || obs.shape[0] != 3)
    fail(file, "observation_space",
         "dtype " + json_quoted(obs.dtype) + " shape of rank " + std::to_string(obs.shape.size()) +
             ", expected uint8 [3, H, W] (channel-first RGB)");
  md.spec.height = obs.shape[1];
  md.spec.width = obs.shape[2];
  Box act = parse_box(m, file, "action_space");
  if (act.dtype != "float32" || act.shape.size() != 1)
    fail(file, "action_space", "dtype " + json_quoted(act.dtype) + ", expected float32 [A]");
  md.spec.action_size = act.shape[0];
  md.spec.action_low = static_cast<float>(act.low);
  md.spec.action_high = static_cast<float>(act.high);
  md.spec.scene_name = field(m, file, "scene_name", T::string).get<std::string>();
  md.spec.scene_json = field(m, file, "scene_json", T::string).get<std::string>();
  md.spec.num_bodies = static_cast<int>(
      int_in(field(m, file, "num_bodies", T::number_integer), file, "num_bodies", 0, 65536));
  if (m.contains("algorithm_name") && m["algorithm_name"].is_string())
    md.spec.algorithm_name = m["algorithm_name"].get<std::string>();
  return md;
}

// Resolves DIR or DIR/data to the data folder.
fs::path data_dir_of(const fs::path& dir) {
  if (fs::exists(dir / "data" / kMetadataName)) return dir / "data";
  if (fs::exists(dir / kMetadataName)) return dir;
  return dir / "data";
}

void check_spec(const DatasetSpec& s) {
  static const std::regex id_re(R"(^(?:[-_\w][-_\w/]*[-_\w]+/)?[-_\w]+?-v\d+$)");
  if (!std::regex_match(s.dataset_id, id_re))
    throw StoreError("dataset_id \"" + s.dataset_id +
                     "\": expected Minari form (namespace/)name-v<version>, e.g. parallax/push-v0");
  assert(s.height > 0 && s.width > 0 && "DatasetSpec: frame size must be positive");
  assert(s.action_size > 0 && "DatasetSpec: action_size must be positive");
  assert(s.num_bodies >= 0 && "DatasetSpec: num_bodies must be >= 0");
}

// Compares a dataset's spec with the one asked for on resume; names the first difference.
void check_same(const fs::path& file, const DatasetSpec& have, const DatasetSpec& want) {
  auto diff = [&](const char* f, const std::string& a, const std::string& b) {
    if (a != b)
      fail(file, f,
           "dataset has \"" + a.substr(0, 80) + "\", this run wants \"" + b.substr(0, 80) +
               "\" (resume needs the same settings)");
  };
  diff("dataset_id", have.dataset_id, want.dataset_id);
  diff("scene_name", have.scene_name, want.scene_name);
  diff("observation_space", std::to_string(have.height) + "x" + std::to_string(have.width),
       std::to_string(want.height) + "x" + std::to_string(want.width));
  diff("action_space", std::to_string(have.action_size), std::to_string(want.action_size));
  diff("num_bodies", std::to_string(have.num_bodies), std::to_string(want.num_bodies));
  if (have.action_low != want.action_low || have.action_high != want.action_high)
    fail(file, "action_space", "bounds differ from this run's");
  if (have.scene_json != want.scene_json)
    fail(file, "scene_json", "the scene file changed since the dataset was started");
  diff("algorithm_name", have.algorithm_name, want.algorithm_name);
}

// ---- HDF5 helpers ------------------------------------------------------------------------------

// File-access properties: the metadata cache never evicts (so no half-updated metadata reaches
// the disk between flushes); the file keeps its lock to stop two writers.
Hid make_fapl() {
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5AC_cache_config_t cfg;
  std::memset(&cfg, 0, sizeof cfg);
  cfg.version = H5AC__CURR_CACHE_CONFIG_VERSION;
  H5Pget_mdc_config(fapl.get(), &cfg);
  cfg.evictions_enabled = false;
  cfg.incr_mode = H5C_incr__off;
  cfg.flash_incr_mode = H5C_flash_incr__off;
  cfg.decr_mode = H5C_decr__off;
  H5Pset_mdc_config(fapl.get(), &cfg);
  return fapl;
}

void write_attr_i64(hid_t obj, const char* name, std::int64_t v) {
  Hid sp(H5Screate(H5S_SCALAR));
  Hid a(H5Acreate2(obj, name, H5T_STD_I64LE, sp.get(), H5P_DEFAULT, H5P_DEFAULT));
  H5Awrite(a.get(), H5T_NATIVE_INT64, &v);
}
void write_attr_u64(hid_t obj, const char* name, std::uint64_t v) {
  Hid sp(H5Screate(H5S_SCALAR));
  Hid a(H5Acreate2(obj, name, H5T_STD_U64LE, sp.get(), H5P_DEFAULT, H5P_DEFAULT));
  H5Awrite(a.get(), H5T_NATIVE_UINT64, &v);
}

// Creates `name` under `loc` with file type `ftype`, shape `dims`, and writes `data` (memory type
// `mtype`). Frames are chunked per up to 16 steps and gzip-1 compressed (h5py reads that).
bool write_dataset(hid_t loc, const char* name, hid_t ftype, hid_t mtype,
                   const std::vector<hsize_t>& dims, const void* data, bool compress) {
  Hid space(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), nullptr));
  Hid dcpl(H5Pcreate(H5P_DATASET_CREATE));
  if (compress && H5Zfilter_avail(H5Z_FILTER_DEFLATE) > 0) {
    std::vector<hsize_t> chunk = dims;
    chunk[0] = std::min<hsize_t>(dims[0], 16);
    H5Pset_chunk(dcpl.get(), static_cast<int>(chunk.size()), chunk.data());
    H5Pset_deflate(dcpl.get(), 1);
  }
  Hid ds(H5Dcreate2(loc, name, ftype, space.get(), H5P_DEFAULT, dcpl.get(), H5P_DEFAULT));
  if (!ds.ok()) return false;
  return H5Dwrite(ds.get(), mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0;
}

// What a group's dataset must look like.
enum class Kind { kU8, kF32, kFlag };

const char* kind_name(Kind k) {
  switch (k) {
    case Kind::kU8:
      return "uint8";
    case Kind::kF32:
      return "float32";
    case Kind::kFlag:
      return "bool (HDF5 enum over int8, FALSE = 0, TRUE = 1)";
  }
  return "?";
}

// Opens `path` (e.g. "episode_3/observations") and checks its dtype and shape.
Hid open_checked(hid_t file, const fs::path& fname, const std::string& path, Kind kind,
                 const std::vector<hsize_t>& want) {
  if (H5Lexists(file, path.c_str(), H5P_DEFAULT) <= 0) {
    // A missing parent ("infos") makes H5Lexists fail rather than return 0: same message.
    fail(fname, "/" + path, "missing");
  }
  Hid ds(H5Dopen2(file, path.c_str(), H5P_DEFAULT));
  if (!ds.ok()) fail(fname, "/" + path, "not a dataset");
  Hid t(H5Dget_type(ds.get()));
  const H5T_class_t cls = H5Tget_class(t.get());
  const std::size_t size = H5Tget_size(t.get());
  bool ok = false;
  switch (kind) {
    case Kind::kU8:
      ok = cls == H5T_INTEGER && size == 1 && H5Tget_sign(t.get()) == H5T_SGN_NONE;
      break;
    case Kind::kF32:
      ok = cls == H5T_FLOAT && size == 4;
      break;
    case Kind::kFlag:
      ok = (cls == H5T_ENUM || cls == H5T_INTEGER) && size == 1;
      break;
  }
  if (!ok) fail(fname, "/" + path, std::string("dtype is not ") + kind_name(kind));
  Hid sp(H5Dget_space(ds.get()));
  const int rank = H5Sget_simple_extent_ndims(sp.get());
  std::vector<hsize_t> dims(rank > 0 ? rank : 0);
  if (rank > 0) H5Sget_simple_extent_dims(sp.get(), dims.data(), nullptr);
  if (dims != want)
    fail(fname, "/" + path, "shape " + join_dims(dims) + ", expected " + join_dims(want));
  return ds;
}

bool read_attr_i64(hid_t obj, const char* name, std::int64_t* v) {
  if (H5Aexists(obj, name) <= 0) return false;
  Hid a(H5Aopen(obj, name, H5P_DEFAULT));
  return a.ok() && H5Aread(a.get(), H5T_NATIVE_INT64, v) >= 0;
}
bool read_attr_u64(hid_t obj, const char* name, std::uint64_t* v) {
  if (H5Aexists(obj, name) <= 0) return false;
  Hid a(H5Aopen(obj, name, H5P_DEFAULT));
  return a.ok() && H5Aread(a.get(), H5T_NATIVE_UINT64, v) >= 0;
}

std::string group_name(int i) {
  return "episode_" + std::to_string(i);
}

}  // namespace

// ==== writer ====================================================================================

struct EpisodeWriter::Impl {
  fs::path data_dir, meta_file, main_file;
  DatasetSpec spec;
  int episodes = 0;
  std::int64_t steps = 0;
  Hid file;
  Hid bool_type;
  std::optional<detail::UndoFile> undo;  // the file's driver: held writes, undo journal
};

namespace {
// A journal left by a writer killed in the middle of a commit (undo_file.hpp): where metadata.json
// still counts `committed` episodes, the commit did not happen and the file is rolled back to it;
// where it counts more, the commit landed and the journal is stale.
// Another writer holding the file (libhdf5 flocks it) may be in the middle of a commit: its journal
// is live and must not be touched, so the file's lock is taken first and held while recovering.
void recover_journal(const fs::path& main, std::int64_t committed) {
  const int fd = ::open(main.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(main, "open", std::strerror(errno));
  const struct Unlock {
    int fd;
    ~Unlock() { ::close(fd); }  // closing the descriptor drops the lock
  } unlock{fd};
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK)
    fail(main, "open", "another process is writing it");
  const fs::path jp = detail::journal_path(main);
  try {
    const std::optional<detail::UndoJournal> j = detail::read_journal(jp);
    if (!j) return;
    if (j->commit > committed)
      fail(jp, "commit",
           std::to_string(j->commit) + ", but metadata.json counts " + std::to_string(committed) +
               " episodes (the journal belongs to another dataset?)");
    if (j->commit == committed) {
      detail::roll_back(main, *j);
    } else if (::unlink(jp.c_str()) != 0 && errno != ENOENT) {
      fail(jp, "remove", std::strerror(errno));
    }
  } catch (const detail::UndoError& e) {
    throw StoreError(e.what());
  }
}

// Copies episodes [0, count) of `main` into a new file with the writer's creation properties,
// fsyncs it and renames it over `main`. Used by resume to drop uncommitted trailing groups.
void compact_committed(const fs::path& main, int count) {
  base::AtomicReplace out(main);
  const fs::path& tmp = out.temp_path();
  {
    Hid src(H5Fopen(main.c_str(), H5F_ACC_RDONLY, H5P_DEFAULT));
    if (!src.ok()) fail(main, "open", "cannot open to drop uncommitted episodes (corrupt file?)");
    Hid fcpl(H5Pcreate(H5P_FILE_CREATE));
    H5Pset_file_space_strategy(fcpl.get(), H5F_FSPACE_STRATEGY_NONE, 0, 1);
    Hid dst(H5Fcreate(tmp.c_str(), H5F_ACC_TRUNC, fcpl.get(), H5P_DEFAULT));
    if (!dst.ok()) fail(tmp, "create", "libhdf5 cannot create the file");
    for (int i = 0; i < count; ++i) {
      const std::string g = group_name(i);
      if (H5Ocopy(src.get(), g.c_str(), dst.get(), g.c_str(), H5P_DEFAULT, H5P_DEFAULT) < 0)
        fail(main, "/" + g, "committed episode cannot be read back (corrupt file?)");
    }
    H5Fflush(dst.get(), H5F_SCOPE_GLOBAL);
  }
  try {
    out.commit();
  } catch (const base::AtomicWriteError& e) {
    throw StoreError(e.what());
  }
}

void commit_file(detail::UndoFile& undo, std::int64_t committed) {
  try {
    undo.commit(committed);
  } catch (const detail::UndoError& e) {
    throw StoreError(e.what());
  }
}
}  // namespace

EpisodeWriter::EpisodeWriter(const fs::path& dataset_dir, const DatasetSpec& spec, bool resume)
    : impl_(std::make_unique<Impl>()) {
  check_spec(spec);
  std::lock_guard lock(h5_mutex());
  quiet_hdf5();
  Impl& m = *impl_;
  m.data_dir = dataset_dir / "data";
  m.meta_file = m.data_dir / kMetadataName;
  m.main_file = m.data_dir / kMainName;
  m.spec = spec;
  m.bool_type = make_bool_type();
  Hid fapl = make_fapl();

  const bool exists = fs::exists(m.meta_file);
  if (exists && !resume)
    fail(m.meta_file, "create",
         "a dataset already exists here (resume it, or choose another output folder)");
  if (exists) {
    // Resume: the committed count comes from metadata.json; drop any later (uncommitted) group.
    Metadata md = read_metadata(m.meta_file);
    check_same(m.meta_file, md.spec, spec);
    m.episodes = md.total_episodes;
    m.steps = md.total_steps;
    if (!fs::exists(m.main_file)) fail(m.main_file, "open", "missing (metadata.json is there)");
    recover_journal(m.main_file, m.episodes);
    m.undo = detail::UndoFile::writer(m.main_file);
    Hid wfapl(m.undo->make_fapl(fapl.get()));
    m.undo->set_committed_size(fs::file_size(m.main_file));
    m.file = Hid(H5Fopen(m.main_file.c_str(), H5F_ACC_RDWR, wfapl.get()));
    if (!m.file.ok())
      fail(m.main_file, "open",
           "cannot open for writing (corrupt, or another process is writing it)");
    bool uncommitted = false;
    for (int i = 0;; ++i) {
      const std::string g = group_name(i);
      const bool has = H5Lexists(m.file.get(), g.c_str(), H5P_DEFAULT) > 0;
      if (i < m.episodes && !has)
        fail(m.main_file, "/" + g,
             "missing, but metadata.json counts " + std::to_string(m.episodes) + " episodes");
      if (i >= m.episodes) {
        if (!has) break;
        uncommitted = true;
      }
    }
    if (uncommitted) {
      // A kill mid-append can leave a link to an episode whose object header never reached the
      // disk: H5Ldelete then fails. Rebuild instead: copy the committed episodes into a fresh
      // file and rename it over the old one (a kill during this leaves the old file intact).
      m.file.reset();
      compact_committed(m.main_file, m.episodes);
      m.undo->set_committed_size(fs::file_size(m.main_file));
      m.file = Hid(H5Fopen(m.main_file.c_str(), H5F_ACC_RDWR, wfapl.get()));
      if (!m.file.ok())
        fail(m.main_file, "open", "cannot reopen after dropping uncommitted episodes");
    }
    H5Fflush(m.file.get(), H5F_SCOPE_GLOBAL);
    return;
  }

  // Fresh dataset. A main_data.hdf5 without metadata.json is an uncommitted start: replaced (and
  // so is a journal of it).
  std::error_code ec;
  fs::create_directories(m.data_dir, ec);
  if (ec) fail(m.data_dir, "create", ec.message());
  const fs::path jp = detail::journal_path(m.main_file);
  if (::unlink(jp.c_str()) != 0 && errno != ENOENT) fail(jp, "remove", std::strerror(errno));
  m.undo = detail::UndoFile::writer(m.main_file);
  m.undo->set_committed_size(0);
  Hid wfapl(m.undo->make_fapl(fapl.get()));
  Hid fcpl(H5Pcreate(H5P_FILE_CREATE));
  // Allocate only at the end of the file: nothing committed is overwritten before a flush.
  H5Pset_file_space_strategy(fcpl.get(), H5F_FSPACE_STRATEGY_NONE, 0, 1);
  m.file = Hid(H5Fcreate(m.main_file.c_str(), H5F_ACC_TRUNC, fcpl.get(), wfapl.get()));
  if (!m.file.ok()) fail(m.main_file, "create", "libhdf5 cannot create the file");
  if (H5Fflush(m.file.get(), H5F_SCOPE_GLOBAL) < 0) fail(m.main_file, "flush", "failed");
  commit_file(*m.undo, 0);
  write_atomic(m.meta_file, make_metadata(spec, 0, 0).dump());
  m.undo->finish();
}

EpisodeWriter::~EpisodeWriter() {
  std::lock_guard lock(h5_mutex());
  impl_->file.reset();
  impl_->bool_type.reset();
}

int EpisodeWriter::num_episodes() const {
  return impl_->episodes;
}
std::int64_t EpisodeWriter::total_steps() const {
  return impl_->steps;
}
const DatasetSpec& EpisodeWriter::spec() const {
  return impl_->spec;
}

void EpisodeWriter::append(const Episode& ep) {
  Impl& m = *impl_;
  const DatasetSpec& s = m.spec;
  const auto T = static_cast<std::size_t>(ep.steps);
  const auto H = static_cast<std::size_t>(s.height), W = static_cast<std::size_t>(s.width);
  const auto A = static_cast<std::size_t>(s.action_size);
  const auto K = static_cast<std::size_t>(s.num_bodies);
  assert(ep.id == m.episodes && "EpisodeWriter::append: ep.id must equal num_episodes()");
  assert(ep.steps >= 1 && "EpisodeWriter::append: an episode needs at least one step");
  assert(ep.observations.size() == (T + 1) * 3 * H * W && "observations must be [T+1, 3, H, W]");
  assert(ep.actions.size() == T * A && "actions must be [T, A]");
  assert(ep.rewards.size() == T && "rewards must be [T]");
  assert(ep.terminations.size() == T && ep.truncations.size() == T && "flags must be [T]");
  assert(ep.poses.size() == (T + 1) * K * 7 && "poses must be [T+1, K, 7]");
  assert(ep.ids.size() == (T + 1) * H * W && "ids must be [T+1, H, W]");
  (void)A;
  (void)K;
  for (std::size_t t = 0; t < T; ++t)
    assert(ep.terminations[t] <= 1 && ep.truncations[t] <= 1 && "flags must be 0 or 1");

  std::lock_guard lock(h5_mutex());
  const std::string g = group_name(m.episodes);
  const hsize_t t1 = T + 1;
  Hid grp(H5Gcreate2(m.file.get(), g.c_str(), H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
  if (!grp.ok()) fail(m.main_file, "/" + g, "cannot create group");
  write_attr_i64(grp.get(), "id", m.episodes);
  write_attr_i64(grp.get(), "total_steps", ep.steps);
  write_attr_u64(grp.get(), "seed", ep.seed);
  const hid_t gid = grp.get();
  bool ok = write_dataset(gid, "observations", H5T_STD_U8LE, H5T_NATIVE_UINT8, {t1, 3, H, W},
                          ep.observations.data(), true) &&
            write_dataset(gid, "actions", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {T, A},
                          ep.actions.data(), false) &&
            write_dataset(gid, "rewards", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {T}, ep.rewards.data(),
                          false) &&
            write_dataset(gid, "terminations", m.bool_type.get(), m.bool_type.get(), {T},
                          ep.terminations.data(), false) &&
            write_dataset(gid, "truncations", m.bool_type.get(), m.bool_type.get(), {T},
                          ep.truncations.data(), false);
  if (ok) {
    Hid infos(H5Gcreate2(gid, "infos", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT));
    ok = infos.ok() &&
         write_dataset(infos.get(), "poses", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, {t1, K, 7},
                       ep.poses.data(), false) &&
         write_dataset(infos.get(), "ids", H5T_STD_U8LE, H5T_NATIVE_UINT8, {t1, H, W},
                       ep.ids.data(), true);
  }
  if (!ok) fail(m.main_file, "/" + g, "libhdf5 write failed (disk full?)");
  grp.reset();

  // Commit: flush, journal and apply the in-place writes, fsync (undo_file.hpp); then count the
  // episode in metadata.json; then drop the journal.
  if (H5Fflush(m.file.get(), H5F_SCOPE_GLOBAL) < 0) fail(m.main_file, "flush", "failed");
  commit_file(*m.undo, m.episodes);
  write_atomic(m.meta_file, make_metadata(s, m.episodes + 1, m.steps + ep.steps).dump());
  m.episodes += 1;
  m.steps += ep.steps;
  detail::crash_point("counted");
  m.undo->finish();
}

// ==== reader ====================================================================================

struct EpisodeReader::Impl {
  fs::path meta_file, main_file;
  Metadata md;
  std::vector<int> steps;            // T per episode
  std::vector<std::uint64_t> seeds;  // per episode
  Hid file;
};

EpisodeReader::EpisodeReader(const fs::path& dataset_dir) : impl_(std::make_unique<Impl>()) {
  std::lock_guard lock(h5_mutex());
  quiet_hdf5();
  Impl& m = *impl_;
  const fs::path data = data_dir_of(dataset_dir);
  m.meta_file = data / kMetadataName;
  m.main_file = data / kMainName;
  if (!fs::is_directory(data))
    fail(dataset_dir, "open", "no dataset folder here (expected data/metadata.json)");
  m.md = read_metadata(m.meta_file);
  if (!fs::exists(m.main_file)) fail(m.main_file, "open", "missing");
  // A writer killed mid-commit left a journal: read the committed file through it.
  Hid fapl(H5Pcreate(H5P_FILE_ACCESS));
  try {
    const fs::path jp = detail::journal_path(m.main_file);
    std::optional<detail::UndoJournal> j = detail::read_journal(jp);
    if (j && j->commit > m.md.total_episodes)
      fail(jp, "commit",
           std::to_string(j->commit) + ", but metadata.json counts " +
               std::to_string(m.md.total_episodes) +
               " episodes (the journal belongs to another dataset?)");
    if (j && j->commit == m.md.total_episodes)
      fapl = Hid(detail::UndoFile::reader(m.main_file, std::move(*j)).make_fapl(fapl.get()));
  } catch (const detail::UndoError& e) {
    throw StoreError(e.what());
  }
  m.file = Hid(H5Fopen(m.main_file.c_str(), H5F_ACC_RDONLY, fapl.get()));
  if (!m.file.ok())
    fail(m.main_file, "open", "not a readable HDF5 file (truncated, corrupt or being written)");

  // Validate every committed group: attributes, shapes and dtypes (no data read yet).
  const DatasetSpec& s = m.md.spec;
  const hsize_t H = s.height, W = s.width, A = s.action_size, K = s.num_bodies;
  std::int64_t sum = 0;
  for (int i = 0; i < m.md.total_episodes; ++i) {
    const std::string g = group_name(i);
    if (H5Lexists(m.file.get(), g.c_str(), H5P_DEFAULT) <= 0)
      fail(
          m.main_file, "/" + g,
          "missing, but metadata.json counts " + std::to_string(m.md.total_episodes) + " episodes");
    Hid grp(H5Gopen2(m.file.get(), g.c_str(), H5P_DEFAULT));
    if (!grp.ok()) fail(m.main_file, "/" + g, "not a group");
    std::int64_t T = -1, id = i;
    std::uint64_t seed = 0;
    if (!read_attr_i64(grp.get(), "total_steps", &T))
      fail(m.main_file, "/" + g + "@total_steps", "missing");
    if (T < 1 || T > INT_MAX)
      fail(m.main_file, "/" + g + "@total_steps",
           std::to_string(T) + ", expected an integer in [1, " + std::to_string(INT_MAX) + "]");
    if (read_attr_i64(grp.get(), "id", &id) && id != i)
      fail(m.main_file, "/" + g + "@id", std::to_string(id) + ", expected " + std::to_string(i));
    read_attr_u64(grp.get(), "seed", &seed);
    const hsize_t t = static_cast<hsize_t>(T);
    open_checked(m.file.get(), m.main_file, g + "/observations", Kind::kU8, {t + 1, 3, H, W});
    open_checked(m.file.get(), m.main_file, g + "/actions", Kind::kF32, {t, A});
    open_checked(m.file.get(), m.main_file, g + "/rewards", Kind::kF32, {t});
    open_checked(m.file.get(), m.main_file, g + "/terminations", Kind::kFlag, {t});
    open_checked(m.file.get(), m.main_file, g + "/truncations", Kind::kFlag, {t});
    open_checked(m.file.get(), m.main_file, g + "/infos/poses", Kind::kF32, {t + 1, K, 7});
    open_checked(m.file.get(), m.main_file, g + "/infos/ids", Kind::kU8, {t + 1, H, W});
    m.steps.push_back(static_cast<int>(T));
    m.seeds.push_back(seed);
    sum += T;
  }
  if (sum != m.md.total_steps)
    fail(m.meta_file, "total_steps",
         std::to_string(m.md.total_steps) + ", but the episodes hold " + std::to_string(sum));
}

EpisodeReader::~EpisodeReader() {
  std::lock_guard lock(h5_mutex());
  impl_->file.reset();
}

int EpisodeReader::num_episodes() const {
  return impl_->md.total_episodes;
}
const DatasetSpec& EpisodeReader::spec() const {
  return impl_->md.spec;
}
std::int64_t EpisodeReader::total_steps() const {
  return impl_->md.total_steps;
}
int EpisodeReader::steps(int i) const {
  assert(i >= 0 && i < num_episodes() && "EpisodeReader::steps: index out of range");
  return impl_->steps[static_cast<std::size_t>(i)];
}

std::uint64_t EpisodeReader::seed(int i) const {
  assert(i >= 0 && i < num_episodes() && "EpisodeReader::seed: index out of range");
  return impl_->seeds[static_cast<std::size_t>(i)];
}

Episode EpisodeReader::read(int i) const {
  assert(i >= 0 && i < num_episodes() && "EpisodeReader::read: index out of range");
  const Impl& m = *impl_;
  const DatasetSpec& s = m.md.spec;
  const auto T = static_cast<std::size_t>(m.steps[static_cast<std::size_t>(i)]);
  const auto H = static_cast<std::size_t>(s.height), W = static_cast<std::size_t>(s.width);
  const auto A = static_cast<std::size_t>(s.action_size);
  const auto K = static_cast<std::size_t>(s.num_bodies);
  Episode ep;
  ep.id = i;
  ep.seed = m.seeds[static_cast<std::size_t>(i)];
  ep.steps = static_cast<int>(T);
  try {
    ep.observations.resize((T + 1) * 3 * H * W);
    ep.actions.resize(T * A);
    ep.rewards.resize(T);
    ep.terminations.resize(T);
    ep.truncations.resize(T);
    ep.poses.resize((T + 1) * K * 7);
    ep.ids.resize((T + 1) * H * W);
  } catch (const std::bad_alloc&) {  // shapes the file declares, too large for this machine
    fail(m.main_file, "/" + group_name(i),
         std::to_string(T) + " steps of " + std::to_string(H) + "x" + std::to_string(W) +
             " frames do not fit in memory");
  }

  std::lock_guard lock(h5_mutex());
  const std::string g = group_name(i);
  auto load = [&](const char* name, hid_t mtype, void* dst) {
    const std::string path = g + "/" + name;
    Hid ds(H5Dopen2(m.file.get(), path.c_str(), H5P_DEFAULT));
    if (!ds.ok()) fail(m.main_file, "/" + path, "cannot open");
    Hid native;
    if (mtype < 0) {  // flags: read the stored 1-byte values as they are (enum or int8)
      Hid ft(H5Dget_type(ds.get()));
      native = Hid(H5Tget_native_type(ft.get(), H5T_DIR_ASCEND));
      mtype = native.get();
    }
    if (H5Dread(ds.get(), mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst) < 0)
      fail(m.main_file, "/" + path, "read failed (file truncated or corrupt)");
  };
  load("observations", H5T_NATIVE_UINT8, ep.observations.data());
  load("actions", H5T_NATIVE_FLOAT, ep.actions.data());
  load("rewards", H5T_NATIVE_FLOAT, ep.rewards.data());
  load("terminations", -1, ep.terminations.data());
  load("truncations", -1, ep.truncations.data());
  load("infos/poses", H5T_NATIVE_FLOAT, ep.poses.data());
  load("infos/ids", H5T_NATIVE_UINT8, ep.ids.data());
  for (std::size_t t = 0; t < T; ++t) {
    if (ep.terminations[t] > 1)
      fail(m.main_file, "/" + g + "/terminations",
           "value " + std::to_string(ep.terminations[t]) + " at step " + std::to_string(t) +
               ", expected 0 or 1");
    if (ep.truncations[t] > 1)
      fail(m.main_file, "/" + g + "/truncations",
           "value " + std::to_string(ep.truncations[t]) + " at step " + std::to_string(t) +
               ", expected 0 or 1");
  }
  return ep;
}

}  // namespace parallax::worldmodel
