// Catch2 together with LibTorch. c10 defines a glog-style CHECK(condition) macro that replaces
// Catch's CHECK (whichever header comes last wins, silently): include this header instead of
// <catch2/catch.hpp> in tests that see torch, so CHECK is Catch's assertion.
#pragma once

#include <torch/torch.h>

#undef CHECK
#include <catch2/catch.hpp>
