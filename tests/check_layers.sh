#!/usr/bin/env bash
# Fails if a lower layer includes a header it must not see (shared/DESIGN.md, "Layers").
set -u
root=${1:?usage: check_layers.sh SOURCE_DIR}
bad=0
check() {  # check DIR REGEX WHAT
  local hits
  hits=$(grep -rnE "^\s*#\s*include\s*[<\"]($2)" "$root/$1" --include='*.cpp' --include='*.hpp' \
         --include='*.h' --include='*.cu' --include='*.cuh' || true)
  if [[ -n $hits ]]; then
    echo "layering violation: $1 must not include $3:"; echo "$hits"; bad=1
  fi
}
check base 'torch/|ATen/|c10/|btBullet|BulletCollision/|BulletDynamics/|LinearMath/|parallax/sim|parallax/worldmodel|parallax/agents' 'torch, Bullet or any layer'
check sim 'torch/|ATen/|c10/|parallax/worldmodel|parallax/agents' 'torch or higher layers'
check worldmodel 'btBulletDynamicsCommon|btBullet|BulletCollision/|BulletDynamics/|LinearMath/|parallax/sim|parallax/agents' 'Bullet or sim'
check agents 'parallax/cli|SDL|imgui' 'front ends'
check media 'torch/|ATen/|c10/|btBullet|BulletCollision/|BulletDynamics/|LinearMath/|parallax/sim|parallax/worldmodel|parallax/agents|SDL|imgui' 'torch, Bullet, other layers or front ends'
for d in sim/include worldmodel/include agents/include media/include; do
  check "$d" 'btBullet|BulletCollision/|BulletDynamics/|LinearMath/|SDL|cuda_runtime|cuda\.h' 'Bullet, SDL or CUDA types in public headers'
done
if [[ $bad -eq 0 ]]; then echo "layers ok"; fi
exit $bad
