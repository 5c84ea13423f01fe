exports.handler = async () => ({ statusCode: 200, body: "x".repeat(100000) });
