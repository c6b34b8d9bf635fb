#include "clients/cli/output.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "clients/cli/csv.h"
#include "clients/cli/vocabulary.h"

namespace attribution::cli {

absl::StatusOr<Format> ParseFormat(absl::string_view name) {
  if (name == "table") return Format::kTable;
  if (name == "json") return Format::kJson;
  if (name == "csv") return Format::kCsv;
  return absl::InvalidArgumentError(
      absl::StrCat("--format: \"", name, "\" is not table, json or csv"));
}

google::protobuf::Value RowToJson(const Table& table, size_t row) {
  google::protobuf::Value v;
  auto* fields = v.mutable_struct_value()->mutable_fields();
  for (size_t c = 0; c < table.columns.size(); ++c) {
    const Cell& cell = table.rows[row][c];
    double number;
    if (cell.numeric && absl::SimpleAtod(cell.text, &number)) {
      (*fields)[table.columns[c]].set_number_value(number);
    } else {
      (*fields)[table.columns[c]].set_string_value(cell.text);
    }
  }
  return v;
}

google::protobuf::Value RowsToJson(const Table& table) {
  google::protobuf::Value v;
  auto* list = v.mutable_list_value();
  for (size_t r = 0; r < table.rows.size(); ++r) {
    *list->add_values() = RowToJson(table, r);
  }
  return v;
}

std::string ToJson(const google::protobuf::Value& value) {
  // Keys sorted, numbers shortest round-trip.
  return MessageJson(value);
}

void Print(const Table& table, Format format, bool single, std::ostream& out) {
  switch (format) {
    case Format::kJson:
      out << ToJson(single && !table.rows.empty() ? RowToJson(table, 0)
                                                  : RowsToJson(table))
          << "\n";
      return;
    case Format::kCsv:
      for (size_t c = 0; c < table.columns.size(); ++c) {
        out << (c ? "," : "") << CsvEscape(table.columns[c]);
      }
      out << "\n";
      for (const auto& row : table.rows) {
        for (size_t c = 0; c < row.size(); ++c) {
          out << (c ? "," : "") << CsvEscape(row[c].text);
        }
        out << "\n";
      }
      return;
    case Format::kTable: {
      if (single && table.rows.size() == 1) {
        // One record reads best as name/value lines.
        size_t width = 0;
        for (const auto& c : table.columns) width = std::max(width, c.size());
        for (size_t c = 0; c < table.columns.size(); ++c) {
          out << table.columns[c]
              << std::string(width - table.columns[c].size() + 2, ' ')
              << table.rows[0][c].text << "\n";
        }
        return;
      }
      // Widths in characters: money and arrows are multi-byte UTF-8.
      auto width = [](const std::string& s) {
        size_t n = 0;
        for (char ch : s) n += (static_cast<unsigned char>(ch) & 0xc0) != 0x80;
        return n;
      };
      std::vector<size_t> widths;
      for (const auto& c : table.columns) widths.push_back(width(c));
      for (const auto& row : table.rows) {
        for (size_t c = 0; c < row.size(); ++c) {
          widths[c] = std::max(widths[c], width(row[c].text));
        }
      }
      auto line = [&](const std::vector<std::string>& cells,
                      const std::vector<bool>& right) {
        std::string s;
        for (size_t c = 0; c < cells.size(); ++c) {
          const std::string pad(widths[c] - width(cells[c]), ' ');
          if (c) s += "  ";
          s += right[c] ? pad + cells[c] : cells[c] + pad;
        }
        while (!s.empty() && s.back() == ' ') s.pop_back();
        out << s << "\n";
      };
      std::vector<bool> right(table.columns.size(), false);
      if (!table.rows.empty()) {
        for (size_t c = 0; c < right.size(); ++c) {
          right[c] = table.rows[0][c].numeric;
        }
      }
      line(table.columns, right);
      for (const auto& row : table.rows) {
        std::vector<std::string> cells;
        for (const auto& cell : row) cells.push_back(cell.text);
        line(cells, right);
      }
      return;
    }
  }
}

}  // namespace attribution::cli
