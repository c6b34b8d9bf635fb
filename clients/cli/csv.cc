#include "clients/cli/csv.h"

namespace attribution::cli {

bool CsvReader::Next(std::vector<std::string>* fields, int64_t* line,
                     std::string* error) {
  fields->clear();
  error->clear();
  if (!std::getline(in_, buf_)) return false;
  *line = ++line_;
  std::string field;
  bool quoted = false;
  size_t i = 0;
  while (true) {
    if (i == buf_.size()) {
      if (!quoted) break;
      // A line break inside quotes belongs to the field.
      if (!std::getline(in_, buf_)) {
        *error = "unterminated quoted field";
        break;
      }
      ++line_;
      field.push_back('\n');
      i = 0;
      continue;
    }
    const char c = buf_[i++];
    if (quoted) {
      if (c != '"') {
        field.push_back(c);
      } else if (i < buf_.size() && buf_[i] == '"') {
        field.push_back('"');
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      fields->push_back(std::move(field));
      field.clear();
    } else if (c == '\r' && i == buf_.size()) {
      // CRLF line ending.
    } else {
      field.push_back(c);
    }
  }
  fields->push_back(std::move(field));
  return true;
}

std::string CsvEscape(absl::string_view field) {
  if (field.find_first_of(",\"\r\n") == absl::string_view::npos) {
    return std::string(field);
  }
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

}  // namespace attribution::cli
