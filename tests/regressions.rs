//! Every crash or invariant violation a fuzzer ever found, as a named test with its bytes
//! inline. `fuzz/campaign.sh` writes a skeleton for each new crash into fuzz/regressions-todo/;
//! it lands here with a sentence on the bug and its fix.
