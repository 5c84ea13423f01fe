// A handler object without fetch: only its event answers.
export default {
  deployFailed(e) {
    console.log(`notify deployFailed ${e.deploy.id}`)
  },
}
