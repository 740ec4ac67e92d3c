#include "tests/support/sim_ddb_expression.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <fstream>
#include <vector>

namespace containctl::sim {

using nlohmann::json;

namespace {

// DynamoDB's reserved words, all 573 as AWS publishes them (tests/data/dynamodb/SOURCES.md): a bare
// one in an expression is a ValidationException, any other bare name is accepted.
const std::set<std::string>& reserved_words() {
  static const std::set<std::string> words = [] {
    std::set<std::string> w;
    std::ifstream in(CONTAINCTL_SOURCE_DIR "/tests/data/dynamodb/reserved_keywords.txt");
    for (std::string line; std::getline(in, line);) {
      while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
      if (!line.empty()) w.insert(line);
    }
    return w;
  }();
  if (words.empty())
    throw ExprError{true, "DynamoDB's reserved words (" CONTAINCTL_SOURCE_DIR
                          "/tests/data/dynamodb/reserved_keywords.txt) could not be read"};
  return words;
}

struct Tok {
  enum Kind { kIdent, kName, kValue, kPunct, kEnd } kind;
  std::string text;
};

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

std::vector<Tok> lex(const std::string& s) {
  std::vector<Tok> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '#' || c == ':' || std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      size_t j = i + 1;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      Tok::Kind k = c == '#' ? Tok::kName : c == ':' ? Tok::kValue : Tok::kIdent;
      out.push_back({k, s.substr(i, j - i)});
      i = j;
      continue;
    }
    if (c == '.' || c == '[')
      throw ExprError{true, "nested attribute paths ('" + s + "') are not modelled"};
    if ((c == '<' || c == '>') && i + 1 < s.size() && (s[i + 1] == '=' || (c == '<' && s[i + 1] == '>'))) {
      out.push_back({Tok::kPunct, s.substr(i, 2)});
      i += 2;
      continue;
    }
    if (std::string("()=,<>+-").find(c) != std::string::npos) {
      out.push_back({Tok::kPunct, std::string(1, c)});
      ++i;
      continue;
    }
    throw ExprError{false, "Invalid expression: syntax error; token: \"" + std::string(1, c) + "\" in " + s};
  }
  out.push_back({Tok::kEnd, ""});
  return out;
}

int compare_values(const json& a, const json& b, bool& comparable) {
  comparable = false;
  if (!a.is_object() || !b.is_object() || a.size() != 1 || b.size() != 1) return 0;
  const std::string ta = a.begin().key(), tb = b.begin().key();
  if (ta != tb) return 0;
  if (ta == "S") {
    comparable = true;
    const std::string &x = a["S"].get_ref<const std::string&>(), &y = b["S"].get_ref<const std::string&>();
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ta == "N") {
    comparable = true;
    long double x = std::stold(a["N"].get<std::string>()), y = std::stold(b["N"].get<std::string>());
    return x < y ? -1 : x > y ? 1 : 0;
  }
  if (ta == "BOOL") {
    comparable = true;
    return a == b ? 0 : 1;
  }
  throw ExprError{true, "comparison of " + ta + " values is not modelled"};
}

}  // namespace

struct ExprParser {
  Expressions& ex;
  std::vector<Tok> toks;
  size_t pos = 0;
  std::string text;

  ExprParser(Expressions& e, const std::string& s) : ex(e), toks(lex(s)), text(s) {}

  const Tok& peek() const { return toks[pos]; }
  Tok next() { return toks[pos++]; }
  bool keyword(const char* kw) {
    if (peek().kind == Tok::kIdent && upper(peek().text) == kw) {
      ++pos;
      return true;
    }
    return false;
  }
  bool punct(const char* p) {
    if (peek().kind == Tok::kPunct && peek().text == p) {
      ++pos;
      return true;
    }
    return false;
  }
  [[noreturn]] void syntax(const std::string& what) const {
    throw ExprError{false, "Invalid expression: " + what + " near \"" + peek().text + "\" in: " + text};
  }
  void expect(const char* p) {
    if (!punct(p)) syntax(std::string("expected '") + p + "'");
  }
  void end() {
    if (peek().kind != Tok::kEnd) syntax("unexpected token");
  }

  // An attribute name (top level only).
  std::string path() {
    Tok t = next();
    if (t.kind == Tok::kName) {
      if (!ex.names_.contains(t.text))
        throw ExprError{false, "Value provided in ExpressionAttributeNames unused in expressions or an expression "
                               "attribute name was used that was not defined: " + t.text};
      ex.used_names_.insert(t.text);
      return ex.names_[t.text].get<std::string>();
    }
    if (t.kind == Tok::kIdent) {
      if (reserved_words().count(upper(t.text)))
        throw ExprError{false, "Invalid expression: Attribute name is a reserved keyword; reserved keyword: " + t.text};
      return t.text;
    }
    --pos;
    syntax("expected an attribute name");
  }
  json value() {
    Tok t = next();
    if (t.kind != Tok::kValue) {
      --pos;
      syntax("expected a value placeholder");
    }
    if (!ex.values_.contains(t.text))
      throw ExprError{false, "An expression attribute value used in expression is not defined; attribute value: " + t.text};
    ex.used_values_.insert(t.text);
    return ex.values_[t.text];
  }
  // An operand: a value placeholder, or an attribute's value in `item` (null when absent).
  json operand(const json& item) {
    if (peek().kind == Tok::kValue) return value();
    std::string p = path();
    auto it = item.find(p);
    return it == item.end() ? json() : *it;
  }

  // condition := and ("OR" and)*
  bool cond_or(const json& item) {
    bool v = cond_and(item);
    while (keyword("OR")) v = cond_and(item) || v;  // both sides parsed: placeholders count as used
    return v;
  }
  bool cond_and(const json& item) {
    bool v = cond_not(item);
    while (keyword("AND")) v = cond_not(item) && v;
    return v;
  }
  bool cond_not(const json& item) {
    if (keyword("NOT")) return !cond_not(item);
    return primary(item);
  }
  bool primary(const json& item) {
    if (punct("(")) {
      bool v = cond_or(item);
      expect(")");
      return v;
    }
    if (peek().kind == Tok::kIdent && toks[pos + 1].kind == Tok::kPunct && toks[pos + 1].text == "(") {
      std::string fn = next().text;
      expect("(");
      if (fn == "attribute_exists" || fn == "attribute_not_exists") {
        std::string p = path();
        expect(")");
        return item.contains(p) == (fn == "attribute_exists");
      }
      if (fn == "begins_with") {
        json a = operand(item);
        expect(",");
        json b = operand(item);
        expect(")");
        if (!a.is_object() || !a.contains("S") || !b.is_object() || !b.contains("S")) return false;
        return a["S"].get<std::string>().rfind(b["S"].get<std::string>(), 0) == 0;
      }
      throw ExprError{true, "function " + fn + " is not modelled"};
    }
    json a = operand(item);
    if (keyword("IN")) {
      expect("(");
      bool any = false;
      do {
        json b = operand(item);
        bool ok;
        any = any || (!a.is_null() && compare_values(a, b, ok) == 0 && ok);
      } while (punct(","));
      expect(")");
      return any;
    }
    if (keyword("BETWEEN")) {
      json lo = operand(item);
      if (!keyword("AND")) syntax("expected AND in BETWEEN");
      json hi = operand(item);
      bool ok1, ok2;
      if (a.is_null()) return false;
      int c1 = compare_values(a, lo, ok1), c2 = compare_values(a, hi, ok2);
      return ok1 && ok2 && c1 >= 0 && c2 <= 0;
    }
    Tok op = next();
    static const std::set<std::string> kOps = {"=", "<>", "<", "<=", ">", ">="};
    if (op.kind != Tok::kPunct || !kOps.count(op.text)) {
      --pos;
      syntax("expected a comparator");
    }
    json b = operand(item);
    if (a.is_null() || b.is_null()) return op.text == "<>" && !(a.is_null() && b.is_null());
    bool ok;
    int c = compare_values(a, b, ok);
    if (!ok) return op.text == "<>";
    if (op.text == "=") return c == 0;
    if (op.text == "<>") return c != 0;
    if (op.text == "<") return c < 0;
    if (op.text == "<=") return c <= 0;
    if (op.text == ">") return c > 0;
    return c >= 0;
  }
};

namespace {

// Integers only (the store's counters and sequence numbers are): any other number is refused as
// outside the model rather than truncated, and so is a sum beyond 64 bits.
long long integer_of(const json& n) {
  const std::string& text = n.at("N").get_ref<const std::string&>();
  long long v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size())
    throw ExprError{true, "arithmetic on the number " + text + " (only 64-bit integers are modelled)"};
  return v;
}

std::string add_numbers(const json& a, const json& b, int sign) {
  if (!a.is_object() || !a.contains("N") || !a["N"].is_string() || !b.is_object() || !b.contains("N") ||
      !b["N"].is_string())
    throw ExprError{false, "An operand in the update expression has an incorrect data type"};
  const long long x = integer_of(a), y = integer_of(b);
  long long r = 0;
  if (sign > 0 ? __builtin_add_overflow(x, y, &r) : __builtin_sub_overflow(x, y, &r))
    throw ExprError{true, "arithmetic beyond 64-bit integers"};
  return std::to_string(r);
}

}  // namespace

bool Expressions::condition(const std::string& expr, const json& item) {
  ExprParser p(*this, expr);
  bool v = p.cond_or(item);
  p.end();
  return v;
}

void Expressions::update(const std::string& expr, json& item) {
  ExprParser p(*this, expr);
  const json before = item;  // every operand reads the item as it was before the update
  std::set<std::string> clauses;
  std::vector<std::pair<std::string, json>> sets;
  std::vector<std::string> removes;
  while (p.peek().kind != Tok::kEnd) {
    std::string clause = p.peek().kind == Tok::kIdent ? upper(p.next().text) : "";
    if (clause != "SET" && clause != "ADD" && clause != "REMOVE") {
      if (clause == "DELETE") throw ExprError{true, "update clause DELETE is not modelled"};
      p.syntax("expected SET, ADD or REMOVE");
    }
    if (!clauses.insert(clause).second)
      throw ExprError{false, "Invalid UpdateExpression: The \"" + clause + "\" section can only be used once"};
    do {
      std::string target = p.path();
      if (clause == "SET") {
        p.expect("=");
        if (p.peek().kind == Tok::kIdent && p.toks[p.pos + 1].text == "(")
          throw ExprError{true, "function " + p.peek().text + " in SET is not modelled"};
        json v = p.operand(before);
        if (p.punct("+")) v = {{"N", add_numbers(v, p.operand(before), 1)}};
        else if (p.punct("-")) v = {{"N", add_numbers(v, p.operand(before), -1)}};
        if (v.is_null())
          throw ExprError{false, "The provided expression refers to an attribute that does not exist in the item"};
        sets.push_back({target, v});
      } else if (clause == "ADD") {
        json v = p.value();
        if (!v.contains("N")) throw ExprError{true, "ADD of a set is not modelled"};
        auto it = before.find(target);
        sets.push_back({target, {{"N", add_numbers(it == before.end() ? json{{"N", "0"}} : *it, v, 1)}}});
      } else {
        removes.push_back(target);
      }
    } while (p.punct(","));
  }
  std::set<std::string> touched;
  for (const auto& [k, v] : sets)
    if (!touched.insert(k).second)
      throw ExprError{false, "Invalid UpdateExpression: Two document paths overlap with each other: " + k};
  for (const auto& k : removes)
    if (!touched.insert(k).second)
      throw ExprError{false, "Invalid UpdateExpression: Two document paths overlap with each other: " + k};
  for (const auto& k : touched)
    if (k == "pk" || k == "sk")  // SET, ADD and REMOVE alike
      throw ExprError{false, "One or more parameter values were invalid: Cannot update attribute " + k +
                                 ". This attribute is part of the key"};
  for (const auto& [k, v] : sets) item[k] = v;
  for (const auto& k : removes) item.erase(k);
}

Expressions::KeyCondition Expressions::key_condition(const std::string& expr) {
  ExprParser p(*this, expr);
  KeyCondition k;
  auto one = [&](bool first) {
    if (p.peek().kind == Tok::kIdent && upper(p.peek().text) == "BEGINS_WITH") {
      p.next();
      p.expect("(");
      std::string a = p.path();
      p.expect(",");
      json v = p.value();
      p.expect(")");
      if (a != "sk" || first) throw ExprError{false, "Query key condition not supported: begins_with on " + a};
      k.op = "begins_with";
      k.a = v.value("S", "");
      return;
    }
    std::string a = p.path();
    if (a == "pk") {
      p.expect("=");
      json v = p.value();
      if (!v.contains("S")) throw ExprError{false, "One or more parameter values were invalid: pk must be S"};
      k.pk = v["S"];
      return;
    }
    if (a != "sk") throw ExprError{false, "Query condition missed key schema element: " + a};
    if (p.keyword("BETWEEN")) {
      k.op = "between";
      k.a = p.value().value("S", "");
      if (!p.keyword("AND")) p.syntax("expected AND");
      k.b = p.value().value("S", "");
      return;
    }
    // DynamoDB's key conditions compare the sort key with = < <= > >= only (no <>, IN or NOT).
    Tok op = p.next();
    static const std::set<std::string> kKeyOps = {"=", "<", "<=", ">", ">="};
    if (op.kind != Tok::kPunct || !kKeyOps.count(op.text))
      throw ExprError{false, "Invalid operator used in KeyConditionExpression: " + op.text};
    k.op = op.text;
    k.a = p.value().value("S", "");
  };
  one(true);
  if (p.keyword("AND")) one(false);
  p.end();
  if (k.pk.empty()) throw ExprError{false, "Query condition missed key schema element: pk"};
  return k;
}

bool Expressions::sk_matches(const KeyCondition& k, const std::string& sk) {
  if (k.op.empty()) return true;
  if (k.op == "begins_with") return sk.rfind(k.a, 0) == 0;
  if (k.op == "=") return sk == k.a;
  if (k.op == "<") return sk < k.a;
  if (k.op == "<=") return sk <= k.a;
  if (k.op == ">") return sk > k.a;
  if (k.op == ">=") return sk >= k.a;
  return sk >= k.a && sk <= k.b;
}

void Expressions::check_all_used() const {
  for (const auto& [k, v] : names_.items())
    if (!used_names_.count(k))
      throw ExprError{false, "Value provided in ExpressionAttributeNames unused in expressions: keys: {" + k + "}"};
  for (const auto& [k, v] : values_.items())
    if (!used_values_.count(k))
      throw ExprError{false, "Value provided in ExpressionAttributeValues unused in expressions: keys: {" + k + "}"};
}

size_t ddb_item_size(const json& item) {
  size_t n = 0;
  for (const auto& [name, v] : item.items()) {
    n += name.size();
    if (!v.is_object() || v.empty()) continue;
    const std::string t = v.begin().key();
    const json& x = v.begin().value();
    if (t == "S" || t == "B") n += x.get<std::string>().size();
    else if (t == "N") n += (x.get<std::string>().size() + 1) / 2 + 1;
    else if (t == "BOOL" || t == "NULL") n += 1;
    else n += x.dump().size();  // sets, lists, maps: close enough for metering
  }
  return n;
}

}  // namespace containctl::sim
