exports.handler = async (event) => {
  console.log(`starting job ${event.body}`);
  console.error("about to fail");
  throw new Error("job exploded");
};
