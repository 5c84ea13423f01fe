const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// 1,000 lines in ten bursts, 250 ms apart: a poller reads them while they come.
exports.handler = async () => {
  for (let i = 0; i < 1000; i++) {
    console.log(`line ${i}`);
    if (i % 100 === 99) await sleep(250);
  }
};
