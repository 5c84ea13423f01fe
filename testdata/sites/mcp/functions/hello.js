exports.handler = async (event) => {
  const name = (event.queryStringParameters && event.queryStringParameters.name) || "world";
  console.log(`hello called for ${name}`);
  return {
    statusCode: 200,
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ greeting: `Hello, ${name}!`, body: event.body || "" }),
  };
};
