// The viewer's model of the two worlds: the scene, the world model and the arena, ticked on a
// worker thread so that the UI never waits for the model. The UI reads the latest Snapshot
// (copied after each tick) and posts commands (reset, modes, policy, futures, switching) that
// the worker runs between ticks. Lockstep runs (scripts, --frames) call pump() on the UI thread
// instead: one code path, no worker.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "horizon_stats.hpp"
#include "parallax/agents/arena.hpp"
#include "parallax/agents/body_finder.hpp"
#include "parallax/agents/futures.hpp"
#include "parallax/agents/model_source.hpp"
#include "parallax/agents/planner_policy.hpp"
#include "parallax/sim/renderer.hpp"

namespace parallax::viewer {

struct SessionOptions {
  std::string scene = "push";
  std::string model;  // "" = the shipped model of the scene (or an untrained one)
  int envs = 4;
  std::uint64_t seed = 0;
  std::string policy = "random";  // random | noisy | expert | planner
  // The planner policy's model ("" = assets/models/<scene>-latent-poses.pt, the fast planner's).
  std::string planner_model;
  int threads = 0;
  std::string precision = "auto";  // the dream's inference precision: f32 | bf16 | auto
};

// What the UI draws: a copy of the arena's outputs after a tick.
struct Snapshot {
  std::uint64_t version = 0;      // increments with every tick or switch
  std::uint64_t ticks_total = 0;  // ticks since the session started (across resets, switches)
  int n = 0, h = 0, w = 0, a = 0, tick = 0, control_hz = 30;
  std::string scene{}, model{}, mode{}, policy{},
      pusher{};  // pusher: the teleoperated body ("" if none)
  int resync_every = 0;
  std::vector<std::uint8_t> true_rgb{}, pred_rgb{};  // [N, H, W, 3] u8
  std::vector<agents::StepMetrics> metrics{};        // [N] of the last tick
  std::vector<float> actions{};                      // [N, A]
  // The selected env: body centroids from the renderer's ids (true) and from the fidelity
  // module's colour method (predicted), [classes]; class 0 is the background.
  int env = 0;
  std::vector<agents::Centroid> true_centroids{}, pred_centroids{};
  std::vector<std::string> class_names{};
  HorizonStats horizon{};    // since the last reset
  std::deque<float> psnr{};  // selected env, last 240 ticks (dB, inf shown as 60)
  std::deque<float> reward_true{}, reward_pred{};
  std::vector<double> returns_true{}, returns_pred{};  // [N] since each env's reset
  double ticks_per_second = 0;                         // measured over the last second
  // The planner policy: median time of its last 32 decisions (ms) and how many it made; -1 and 0
  // without it.
  double planner_ms = -1;
  int planner_decisions = 0;
  std::string message{};  // last refusal or notice (scene/model switching, futures)
};

class Session {
 public:
  // Loads scene and model and builds the arena; throws (one line) on a bad scene or model.
  explicit Session(SessionOptions options);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  // Interactive: ticks on a worker thread at the scene's control rate (or as fast as it can).
  void start_worker();
  // Lockstep: runs posted commands, then `ticks` ticks (if playing), on the calling thread.
  void pump(int ticks);

  // UI side. Copies the latest snapshot into `out` if it changed; returns whether it did.
  bool latest(Snapshot& out);
  // Runs `fn` between ticks (on the worker; in lockstep at the next pump()).
  void post(std::function<void(Session&)> fn);

  void set_playing(bool on) { playing_ = on; }
  bool playing() const { return playing_; }
  void request_step() { step_requests_.fetch_add(1); }
  void set_max_speed(bool on) { max_speed_ = on; }
  // Teleoperation of env 0: while on, env 0 takes `action` [A] and the others hold still.
  void set_teleop(bool on, std::vector<float> action);
  void select_env(int env) { selected_.store(env); }

  // Tick durations [ms] of the last ticks (worker side), for --bench and the overlay.
  std::vector<double> tick_times_ms();

  // ---- worker-side operations (call through post(), or from pump()) ----
  void reset();
  void set_mode(const std::string& mode, int resync_every);
  void resync_now();
  void set_policy(const std::string& name);
  // Switches scene and/or model; on refusal keeps the current ones and reports the reason
  // (Snapshot::message, and stdout). Returns whether it switched.
  bool switch_to(const std::string& scene, const std::string& model);
  // Imagines K futures of the selected env (and replays them in Bullet); result via futures().
  void imagine(int k, const std::string& source, int horizon);
  std::shared_ptr<const agents::ImaginedFutures> futures();
  void set_message(std::string m);
  const std::string& scene_name() const { return o_.scene; }

 private:
  void build(const std::string& scene, const std::string& model);
  // Makes the planner policy for the current scene and arena (throws with the reason).
  std::unique_ptr<agents::PlannerPolicy> make_planner() const;
  void tick_once();
  void publish();
  void run_commands();
  void worker_loop();

  SessionOptions o_;
  worldmodel::Precision precision_;  // o_.precision resolved on the CPU ("auto")
  std::shared_ptr<const sim::SceneModel> scene_;
  agents::ModelSource model_;
  std::unique_ptr<agents::Arena> arena_;
  agents::PlannerPolicy* planner_ = nullptr;  // the arena's policy when it is the planner
  void clear_history();  // plots, returns and metrics since the last reset; publishes
  std::unique_ptr<agents::FutureImaginer> imaginer_;
  std::unique_ptr<sim::Renderer> id_renderer_;  // ids of the selected env (overlays)
  int pusher_body_ = -1;                        // the actuated body, or -1
  std::vector<int> horizon_;                    // [N] ticks since the dream last observed
  Snapshot work_;                               // worker's copy, published after each tick
  std::vector<float> teleop_action_;            // [A]
  bool teleop_ = false;

  std::mutex cmd_mutex_;
  std::deque<std::function<void(Session&)>> commands_;
  std::mutex snap_mutex_;
  Snapshot published_;
  std::shared_ptr<const agents::ImaginedFutures> futures_;
  std::mutex tick_times_mutex_;
  std::deque<double> tick_times_;
  std::deque<std::chrono::steady_clock::time_point> tick_stamps_;

  std::atomic<bool> playing_{true}, max_speed_{false}, stop_{false};
  std::atomic<int> step_requests_{0}, selected_{0};
  std::condition_variable cv_;
  std::mutex cv_mutex_;
  std::thread worker_;
};

}  // namespace parallax::viewer
