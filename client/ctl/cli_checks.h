// Command-line checks of adaspringctl: option values checked in the user's units with one
// clear message ("--count must be a positive integer (got 'abc')"), and better texts for
// CLI11's parse errors (unknown options and subcommands name the valid choices).
#ifndef ADASPRING_CLIENT_CTL_CLI_CHECKS_H_
#define ADASPRING_CLIENT_CTL_CLI_CHECKS_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace adaspring::ctl {

// The whole of `text` as a base-10 integer / a finite number; nullopt otherwise.
std::optional<int64_t> ParseInteger(const std::string& text);
std::optional<double> ParseFiniteNumber(const std::string& text);

// Validators for CLI11 options. `name` is the option as the user types it, `what` the
// accepted values in words ("a positive integer", "a number from 0 to 100"). The message is
// "NAME must be WHAT (got 'TEXT')"; ParseErrorMessage drops CLI11's "NAME: " prefix.
CLI::Validator IntegerIn(const std::string& name, int64_t lo, int64_t hi, const std::string& what);
// lo < value (lo_open) or lo <= value, and value <= hi.
CLI::Validator NumberIn(const std::string& name, double lo, double hi, bool lo_open,
                        const std::string& what);
// One of `valid` (for a list option, each element).
CLI::Validator OneOf(const std::string& name, const std::vector<std::string>& valid);

// The closest of `candidates` to `word` when it is a likely typo ("" when none is close).
std::string Closest(const std::string& word, const std::vector<std::string>& candidates);

// The message (without "adaspringctl: ") for a parse error of `app`'s command line: the
// deepest command given is named, unknown options get a "did you mean" and unknown
// subcommands the list of valid ones.
std::string ParseErrorMessage(const CLI::App& app, const CLI::ParseError& e);

}  // namespace adaspring::ctl

#endif  // ADASPRING_CLIENT_CTL_CLI_CHECKS_H_
