// The market-maker function's first code, until the futures-marketplace pipeline
// uploads the real one (`aws lambda update-function-code`). It fails every run, loudly,
// so that a function nobody has deployed is never mistaken for a bot with nothing to
// trade: the run lands in the failure queue and the errors alarm fires.
"use strict";

exports.handler = async () => {
  throw new Error(
    "market-maker: no application code has been deployed to this function yet " +
      "(lumerin-infra created it from a placeholder; the futures-marketplace pipeline uploads the code)",
  );
};
