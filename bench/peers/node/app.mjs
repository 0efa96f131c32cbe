// The Probot app both Probot peers run: one handler, for issues.opened, that reads what a
// bot's handler reads first and sends nothing to GitHub.
let opened = 0;

export default (app) => {
  app.on("issues.opened", async (context) => {
    opened += 1;
    void context.payload.issue.number, context.payload.repository.full_name;
  });
};
