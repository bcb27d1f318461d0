// Episode store: a Minari-compatible (0.5.3) dataset folder written and read through libhdf5.
//
//   DIR/data/metadata.json    total_episodes, total_steps, spaces, scene (the commit record)
//   DIR/data/main_data.hdf5   /episode_{i} groups, i = 0.. without gaps (layout in docs/store.md)
//
// Crash safety: an episode is appended, flushed to disk, and only then counted in metadata.json
// (rewritten atomically: temp file + rename). The HDF5 file is written so that nothing already
// committed is overwritten before the next flush (no free-space reuse, metadata held in memory
// until the flush), so a writer killed at any moment leaves a readable dataset holding every
// committed episode; a half-written trailing group is ignored by readers and dropped on resume.
//
// Not thread-safe per object; different objects may be used from different threads (every
// libhdf5 call in this module is serialised by one process-wide mutex).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace parallax::worldmodel {

// A bad or mismatched dataset: one line naming the file, the path inside it (HDF5 object or
// JSON field), the value found and what was expected.
class StoreError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What every episode of a dataset shares. Written to metadata.json; checked on resume.
struct DatasetSpec {
  std::string dataset_id;     // Minari id "(namespace/)name-v<version>", e.g. "parallax/push-v0"
  std::string scene_name;     // e.g. "push"
  std::string scene_json;     // the full scene file text
  int height = 0, width = 0;  // frame size, pixels
  int action_size = 0;        // A
  int num_bodies = 0;         // K (rows of infos/poses)
  float action_low = -1.0f, action_high = 1.0f;  // bounds of every action component
  std::string algorithm_name;  // optional: the policy that collected the data ("random", ...)
};

// One episode of T steps (T >= 1). Frame t is the observation before action t.
struct Episode {
  std::int64_t id = 0;     // index in the dataset (== episode_{id}); set by the writer's caller
  std::uint64_t seed = 0;  // reset seed of the episode
  int steps = 0;           // T
  std::vector<std::uint8_t> observations;  // [T+1, 3, H, W] u8, channel-first RGB
  std::vector<float> actions;              // [T, A] f32 in [action_low, action_high]
  std::vector<float> rewards;              // [T] f32, reward after action t
  std::vector<std::uint8_t> terminations;  // [T] 0/1
  std::vector<std::uint8_t> truncations;   // [T] 0/1
  std::vector<float> poses;                // [T+1, K, 7] f32: x, y, z (m), qx, qy, qz, qw
  std::vector<std::uint8_t> ids;           // [T+1, H, W] u8 object id per pixel (infos/ids)
};

class EpisodeWriter {
 public:
  // Creates DIR/data/ (resume = false: fails if a dataset is already there), or continues the
  // dataset there (resume = true: its spec must equal `spec`, field by field; a missing dataset
  // is created). Throws StoreError.
  EpisodeWriter(const std::filesystem::path& dataset_dir, const DatasetSpec& spec, bool resume);
  ~EpisodeWriter();
  EpisodeWriter(const EpisodeWriter&) = delete;
  EpisodeWriter& operator=(const EpisodeWriter&) = delete;

  // Committed episodes (the next append becomes episode_{num_episodes()}).
  int num_episodes() const;
  std::int64_t total_steps() const;
  const DatasetSpec& spec() const;
  // Writes `ep` as episode_{num_episodes()} (asserts ep.id == num_episodes() and its sizes),
  // flushes the HDF5 file and commits it in metadata.json. Throws StoreError on I/O failure.
  void append(const Episode& ep);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class EpisodeReader {
 public:
  // Opens DIR (holding data/) or the data/ folder itself. Validates metadata.json and every
  // committed group's attributes, shapes and dtypes up front. Throws StoreError.
  explicit EpisodeReader(const std::filesystem::path& dataset_dir);
  ~EpisodeReader();
  EpisodeReader(const EpisodeReader&) = delete;
  EpisodeReader& operator=(const EpisodeReader&) = delete;

  int num_episodes() const;
  const DatasetSpec& spec() const;
  std::int64_t total_steps() const;
  int steps(int i) const;           // T of episode i, without reading it
  std::uint64_t seed(int i) const;  // reset seed of episode i, without reading it
  // Reads episode i in [0, num_episodes()). Throws StoreError if its data cannot be read.
  Episode read(int i) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parallax::worldmodel
