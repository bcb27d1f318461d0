// One RGB OpenGL texture per displayed image, resized on demand and updated in place.
#pragma once

#include <SDL_opengl.h>
#include <imgui.h>

#include <cstdint>

namespace parallax::viewer {

struct FrameTexture {
  GLuint id = 0;
  int w = 0, h = 0;
  // Uploads rgb [height, width, 3] u8 (re-creating the texture when the size changed).
  void upload(const std::uint8_t* rgb, int width, int height) {
    if (id == 0 || width != w || height != h) {
      destroy();
      w = width;
      h = height;
      glGenTextures(1, &id);
      glBindTexture(GL_TEXTURE_2D, id);
      glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
      glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
      glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
      glTexImage2D(GL_TEXTURE_2D, 0, GL_RGB, w, h, 0, GL_RGB, GL_UNSIGNED_BYTE, rgb);
      return;
    }
    glBindTexture(GL_TEXTURE_2D, id);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, w, h, GL_RGB, GL_UNSIGNED_BYTE, rgb);
  }
  void destroy() {
    if (id) glDeleteTextures(1, &id);
    id = 0;
  }
  ImTextureID imgui_id() const {
    return reinterpret_cast<ImTextureID>(static_cast<std::uintptr_t>(id));
  }
};

}  // namespace parallax::viewer
