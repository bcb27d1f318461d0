// SHA-256 (FIPS 180-4) of a byte string, as 64 lowercase hex digits: identifies model files in
// reports. Checked against Python's hashlib in tests/worldmodel/test_world_model.cpp.
// Reference: docs/worldmodel.md.
#pragma once

#include <string>
#include <string_view>

namespace parallax::worldmodel {

std::string sha256_hex(std::string_view bytes);

}  // namespace parallax::worldmodel
