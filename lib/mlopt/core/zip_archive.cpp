#include "mlopt/core/zip_archive.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <string_view>

#include "mlopt/core/error.h"

namespace mlopt {
namespace {

uint32_t read_u32(std::string_view b, size_t off) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(b[off + i]);
  return v;
}
uint16_t read_u16(std::string_view b, size_t off) {
  return static_cast<uint16_t>(static_cast<unsigned char>(b[off]) | (static_cast<unsigned char>(b[off + 1]) << 8));
}
void put_u32(std::string& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b += static_cast<char>((v >> (8 * i)) & 0xff);
}
void put_u16(std::string& b, uint16_t v) {
  b += static_cast<char>(v & 0xff);
  b += static_cast<char>(v >> 8);
}

std::string inflate_raw(std::string_view bytes, size_t off, size_t compressed, size_t expected,
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

// zlib's crc32 takes a 32-bit length: large entries go in chunks.
uint32_t entry_crc32(const char* data, uint64_t size) {
  uLong crc = crc32(0L, Z_NULL, 0);
  while (size > 0) {
    uInt chunk = static_cast<uInt>(std::min<uint64_t>(size, 1u << 30));
    crc = crc32(crc, reinterpret_cast<const Bytef*>(data), chunk);
    data += chunk;
    size -= chunk;
  }
  return static_cast<uint32_t>(crc);
}

// Walks the central directory, checking every entry (bounds, sizes against the
// limit, compression ratio, CRC-32). With `entries` null, stored entries are
// checked in place rather than copied (archive validation).
void walk_zip(std::string_view b, const std::string& what, uint64_t max_uncompressed, std::vector<ZipEntry>* entries) {
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
  uint64_t count = read_u16(b, eocd + 10);
  uint64_t cd_size = read_u32(b, eocd + 12);
  uint64_t cd_off = read_u32(b, eocd + 16);
  size_t cd_limit = eocd;  // the central directory ends before the end records
  if ((count == 0xffff || cd_size == 0xffffffff || cd_off == 0xffffffff) && eocd >= 20 &&
      read_u32(b, eocd - 20) == 0x07064b50) {
    // Zip64 (LibTorch writes it for archives over 4 GiB): the zip64 end record holds the real values.
    uint64_t rec = read_u32(b, eocd - 12) | (uint64_t(read_u32(b, eocd - 8)) << 32);
    if (rec > eocd - 20 || eocd - 20 - rec < 56 || read_u32(b, rec) != 0x06064b50)
      fail("{}: corrupt zip archive (bad zip64 end record)", what);
    auto u64 = [&](size_t off) { return read_u32(b, off) | (uint64_t(read_u32(b, off + 4)) << 32); };
    count = u64(rec + 32);
    cd_size = u64(rec + 40);
    cd_off = u64(rec + 48);
    cd_limit = rec;
  }
  if (cd_off > cd_limit || cd_size > cd_limit - cd_off)
    fail("{}: corrupt zip archive (central directory out of range)", what);
  // Each central directory record takes at least 46 bytes.
  if (count > cd_size / 46) fail("{}: corrupt zip archive (entry count exceeds the central directory)", what);

  struct Record {
    std::string name;
    uint16_t method;
    uint32_t crc;
    uint64_t csize, usize, data_off;
  };
  std::vector<Record> records;
  uint64_t total = 0;
  size_t p = cd_off;
  for (uint64_t i = 0; i < count; ++i) {
    if (p + 46 > cd_limit || read_u32(b, p) != 0x02014b50) fail("{}: corrupt zip archive (bad central directory)", what);
    uint16_t method = read_u16(b, p + 10);
    uint32_t crc_expected = read_u32(b, p + 16);
    uint64_t csize = read_u32(b, p + 20);
    uint64_t usize = read_u32(b, p + 24);
    uint16_t name_len = read_u16(b, p + 28), extra_len = read_u16(b, p + 30), comment_len = read_u16(b, p + 32);
    uint64_t local_off = read_u32(b, p + 42);
    if (p + 46 + name_len > cd_limit) fail("{}: corrupt zip archive (entry name out of range)", what);
    std::string name(b.substr(p + 46, name_len));
    // Zip64: sizes stored in the extra field.
    if (csize == 0xffffffff || usize == 0xffffffff || local_off == 0xffffffff) {
      size_t e = p + 46 + name_len, end = e + extra_len;
      if (end > cd_limit) fail("{}: corrupt zip archive (extra field out of range)", what);
      while (e + 4 <= end) {
        uint16_t id = read_u16(b, e), len = read_u16(b, e + 2);
        if (e + 4 + len > end) fail("{}: corrupt zip archive (extra field out of range in '{}')", what, name);
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
    if (local_off > b.size() || b.size() - local_off < 30 || read_u32(b, local_off) != 0x04034b50)
      fail("{}: corrupt zip archive (bad local header for '{}')", what, name);
    uint64_t data_off = local_off + 30 + read_u16(b, local_off + 26) + read_u16(b, local_off + 28);
    if (data_off > b.size() || csize > b.size() - data_off) fail("{}: entry '{}' is truncated", what, name);
    if (method == 0 && csize != usize)
      fail("{}: corrupt zip archive (stored entry '{}' has mismatched sizes)", what, name);
    // A deflate stream expands at most ~1032x; anything claiming more is a bomb.
    if (method == 8 && usize > (csize + 1) * 1032)
      fail("{}: entry '{}' has an impossible compression ratio", what, name);
    if (method != 0 && method != 8)
      fail("{}: entry '{}' uses unsupported zip compression method {}", what, name, method);
    records.push_back({std::move(name), method, crc_expected, csize, usize, data_off});
  }

  // Only once the whole directory is known to fit the limit is anything inflated
  // (overlapping entries pointing at one bomb are refused above).
  for (auto& r : records) {
    ZipEntry entry{std::move(r.name), {}};
    const char* data = nullptr;
    if (r.method == 0) {
      data = b.data() + r.data_off;
      if (entries) entry.data = std::string(b.substr(r.data_off, r.csize));
    } else {
      entry.data = inflate_raw(b, r.data_off, r.csize, r.usize, what, entry.name);
      data = entry.data.data();
    }
    if (entry_crc32(data, r.usize) != r.crc) fail("{}: entry '{}' is corrupt (CRC mismatch)", what, entry.name);
    if (entries) entries->push_back(std::move(entry));
  }
}

}  // namespace

std::vector<ZipEntry> read_zip(const std::string& bytes, const std::string& what, uint64_t max_uncompressed) {
  std::vector<ZipEntry> entries;
  walk_zip(bytes, what, max_uncompressed, &entries);
  return entries;
}

void check_zip(std::string_view bytes, const std::string& what, uint64_t max_uncompressed) {
  walk_zip(bytes, what, max_uncompressed, nullptr);
}

void check_zip_file(const std::string& path, const std::string& what) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail("cannot read '{}'", path);
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size == 0) {
    ::close(fd);
    fail("{} (empty file)", what);
  }
  size_t size = static_cast<size_t>(st.st_size);
  // Mapped, not read: a model archive may be gigabytes.
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) fail("cannot read '{}'", path);
  try {
    // Stored entries are bounded by the file itself; the limit only matters for deflated ones.
    check_zip(std::string_view(static_cast<const char*>(map), size), what,
              std::max<uint64_t>(uint64_t{8} << 30, size));
  } catch (...) {
    ::munmap(map, size);
    throw;
  }
  ::munmap(map, size);
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
