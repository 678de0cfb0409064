#include "mlopt/core/zip_archive.h"

#include <zlib.h>

#include <cstring>

#include "mlopt/core/error.h"

namespace mlopt {
namespace {

uint32_t read_u32(const std::string& b, size_t off) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[off + i]);
  return v;
}
uint16_t read_u16(const std::string& b, size_t off) {
  return static_cast<uint16_t>(static_cast<unsigned char>(b[off]) | (static_cast<unsigned char>(b[off + 1]) << 8));
}
void put_u32(std::string& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b += static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_u16(std::string& b, uint16_t v) {
  b += static_cast<char>(v & 0xff);
  b += static_cast<char>(v >> 8);
}

std::string inflate_raw(const std::string& bytes, size_t off, size_t compressed, size_t expected,
                        const std::string& what, const std::string& name) {
  std::string out(expected, '\0');
  z_stream zs{};
  if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) fail("{}: cannot inflate entry '{}'", what, name);
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(bytes.data() + off));
  zs.avail_in = static_cast<uInt>(compressed);
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(expected);
  int rc = inflate(&zs, Z_FINISH);
  size_t produced = expected - zs.avail_out;
  inflateEnd(&zs);
  if (rc != Z_STREAM_END || produced != expected) fail("{}: entry '{}' is corrupt (bad deflate data)", what, name);
  return out;
}

}  // namespace

std::vector<ZipEntry> read_zip(const std::string& b, const std::string& what, uint64_t max_uncompressed) {
  // Find the end-of-central-directory record (it is within the last 64 KiB + 22 bytes).
  if (b.size() < 22) fail("{}: not a zip archive (too short)", what);
  size_t eocd = std::string::npos;
  size_t lowest = b.size() > 65557 ? b.size() - 65557 : 0;
  for (size_t i = b.size() - 22 + 1; i-- > lowest;) {
    if (read_u32(b, i) == 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd == std::string::npos) fail("{}: not a zip archive (no end-of-central-directory record)", what);
  uint16_t count = read_u16(b, eocd + 10);
  uint32_t cd_size = read_u32(b, eocd + 12);
  uint32_t cd_off = read_u32(b, eocd + 16);
  if (uint64_t(cd_off) + cd_size > eocd) fail("{}: corrupt zip archive (central directory out of range)", what);

  std::vector<ZipEntry> entries;
  uint64_t total = 0;
  size_t p = cd_off;
  for (uint16_t i = 0; i < count; ++i) {
    if (p + 46 > eocd || read_u32(b, p) != 0x02014b50) fail("{}: corrupt zip archive (bad central directory)", what);
    uint16_t method = read_u16(b, p + 10);
    uint32_t crc_expected = read_u32(b, p + 16);
    uint64_t csize = read_u32(b, p + 20);
    uint64_t usize = read_u32(b, p + 24);
    uint16_t name_len = read_u16(b, p + 28), extra_len = read_u16(b, p + 30), comment_len = read_u16(b, p + 32);
    uint64_t local_off = read_u32(b, p + 42);
    if (p + 46 + name_len > eocd) fail("{}: corrupt zip archive (entry name out of range)", what);
    std::string name = b.substr(p + 46, name_len);
    // Zip64: sizes stored in the extra field.
    if (csize == 0xffffffff || usize == 0xffffffff || local_off == 0xffffffff) {
      size_t e = p + 46 + name_len, end = e + extra_len;
      if (end > eocd) fail("{}: corrupt zip archive (extra field out of range)", what);
      while (e + 4 <= end) {
        uint16_t id = read_u16(b, e), len = read_u16(b, e + 2);
        if (id == 0x0001) {
          size_t q = e + 4;
          auto next64 = [&](uint64_t& v) {
            if (q + 8 > e + 4 + len) fail("{}: corrupt zip64 field in '{}'", what, name);
            v = read_u32(b, q) | (uint64_t(read_u32(b, q + 4)) << 32);
            q += 8;
          };
          if (usize == 0xffffffff) next64(usize);
          if (csize == 0xffffffff) next64(csize);
          if (local_off == 0xffffffff) next64(local_off);
        }
        e += 4 + len;
      }
    }
    p += 46 + name_len + extra_len + comment_len;

    total += usize;
    if (usize > max_uncompressed || total > max_uncompressed)
      fail("{}: entry '{}' would unpack to {} bytes, over the limit of {}", what, name, usize, max_uncompressed);
    if (local_off + 30 > b.size() || read_u32(b, local_off) != 0x04034b50)
      fail("{}: corrupt zip archive (bad local header for '{}')", what, name);
    uint64_t data_off = local_off + 30 + read_u16(b, local_off + 26) + read_u16(b, local_off + 28);
    if (data_off + csize > b.size()) fail("{}: entry '{}' is truncated", what, name);
    ZipEntry entry{name, {}};
    if (method == 0) {
      if (csize != usize) fail("{}: corrupt zip archive (stored entry '{}' has mismatched sizes)", what, name);
      entry.data = b.substr(data_off, csize);
    } else if (method == 8) {
      // A deflate stream expands at most ~1032x; anything claiming more is a bomb.
      if (usize > (csize + 1) * 1032) fail("{}: entry '{}' has an impossible compression ratio", what, name);
      entry.data = inflate_raw(b, data_off, csize, usize, what, name);
    } else {
      fail("{}: entry '{}' uses unsupported zip compression method {}", what, name, method);
    }
    uint32_t crc = crc32(0L, reinterpret_cast<const Bytef*>(entry.data.data()), static_cast<uInt>(entry.data.size()));
    if (crc != crc_expected)
      fail("{}: entry '{}' is corrupt (CRC mismatch)", what, name);
    entries.push_back(std::move(entry));
  }
  return entries;
}

std::string write_zip(const std::vector<ZipEntry>& entries) {
  std::string out, central;
  for (const auto& e : entries) {
    uint32_t crc = crc32(0L, reinterpret_cast<const Bytef*>(e.data.data()), static_cast<uInt>(e.data.size()));
    uint32_t offset = static_cast<uint32_t>(out.size());
    put_u32(out, 0x04034b50); put_u16(out, 20); put_u16(out, 0); put_u16(out, 0);
    put_u16(out, 0); put_u16(out, 0x21);  // fixed time/date (1980-01-01) for byte-identical files
    put_u32(out, crc); put_u32(out, static_cast<uint32_t>(e.data.size())); put_u32(out, static_cast<uint32_t>(e.data.size()));
    put_u16(out, static_cast<uint16_t>(e.name.size())); put_u16(out, 0);
    out += e.name;
    out += e.data;
    put_u32(central, 0x02014b50); put_u16(central, 20); put_u16(central, 20); put_u16(central, 0); put_u16(central, 0);
    put_u16(central, 0); put_u16(central, 0x21);
    put_u32(central, crc); put_u32(central, static_cast<uint32_t>(e.data.size())); put_u32(central, static_cast<uint32_t>(e.data.size()));
    put_u16(central, static_cast<uint16_t>(e.name.size())); put_u16(central, 0); put_u16(central, 0);
    put_u16(central, 0); put_u16(central, 0); put_u32(central, 0); put_u32(central, offset);
    central += e.name;
  }
  uint32_t cd_off = static_cast<uint32_t>(out.size());
  out += central;
  put_u32(out, 0x06054b50); put_u16(out, 0); put_u16(out, 0);
  put_u16(out, static_cast<uint16_t>(entries.size())); put_u16(out, static_cast<uint16_t>(entries.size()));
  put_u32(out, static_cast<uint32_t>(central.size())); put_u32(out, cd_off); put_u16(out, 0);
  return out;
}

}  // namespace mlopt
